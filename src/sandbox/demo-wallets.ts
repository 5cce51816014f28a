// The two wallets a first run needs: a seller (whose signing key is kept in `keysDir` so that it
// survives restarts) and a buyer with a balance. Used by `npm run sandbox` and by `npm start`.
import type pino from 'pino'
import { createSandboxIdentity, type SandboxIdentity } from './identities.js'
import { startSandbox, type Sandbox } from './server.js'

export interface DemoWallets {
  sandbox: Sandbox
  seller: SandboxIdentity & { walletAddressUrl: string }
  buyerWalletAddressUrl: string
}

export async function startDemoWallets(opts: { port: number; keysDir: string; logger?: pino.Logger }): Promise<DemoWallets> {
  const sandbox = await startSandbox({ port: opts.port, logger: opts.logger })
  sandbox.addWallet({ name: 'seller', publicName: 'Seller Shop' })
  sandbox.addWallet({ name: 'buyer', publicName: 'Buyer', balance: 1_000_000n })
  const identity = createSandboxIdentity({ dir: opts.keysDir, walletName: 'seller' })
  sandbox.addClientKey('seller', identity.jwk)
  return {
    sandbox,
    seller: { ...identity, walletAddressUrl: sandbox.walletAddressUrl('seller') },
    buyerWalletAddressUrl: sandbox.walletAddressUrl('buyer'),
  }
}
