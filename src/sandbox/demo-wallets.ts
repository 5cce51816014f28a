// The wallets a first run needs: a seller in USD (whose signing key is kept in `keysDir` so that it
// survives restarts), a buyer in USD and a buyer in EUR (a cross-currency checkout: the EUR
// buyer's wallet quotes with the demo rate table), each with a balance in its own asset. Used by
// `npm run sandbox` and by `npm start`.
import type pino from 'pino'
import { createSandboxIdentity, type SandboxIdentity } from './identities.js'
import type { RateTableInput } from './rates.js'
import { startSandbox, type Sandbox } from './server.js'

/** Demo exchange rates (1 USD = 0.91 EUR); change them at PUT /sandbox/rates. */
export const DEMO_RATES: RateTableInput = { base: 'USD', rates: { EUR: '0.91', GBP: '0.79' } }

export interface DemoWallets {
  sandbox: Sandbox
  seller: SandboxIdentity & { walletAddressUrl: string }
  buyerWalletAddressUrl: string
  /** A buyer whose wallet holds EUR: pays the USD seller across currencies. */
  eurBuyerWalletAddressUrl: string
}

export async function startDemoWallets(opts: { port: number; keysDir: string; logger?: pino.Logger }): Promise<DemoWallets> {
  const sandbox = await startSandbox({ port: opts.port, logger: opts.logger, rates: DEMO_RATES })
  sandbox.addWallet({ name: 'seller', publicName: 'Seller Shop' })
  sandbox.addWallet({ name: 'buyer', publicName: 'Buyer', balance: 1_000_000n })
  sandbox.addWallet({ name: 'buyer-eur', publicName: 'Buyer (EUR)', assetCode: 'EUR', assetScale: 2, balance: 1_000_000n })
  const identity = createSandboxIdentity({ dir: opts.keysDir, walletName: 'seller' })
  sandbox.addClientKey('seller', identity.jwk)
  return {
    sandbox,
    seller: { ...identity, walletAddressUrl: sandbox.walletAddressUrl('seller') },
    buyerWalletAddressUrl: sandbox.walletAddressUrl('buyer'),
    eurBuyerWalletAddressUrl: sandbox.walletAddressUrl('buyer-eur'),
  }
}
