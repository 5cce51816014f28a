import { Hono } from 'hono'
import type { JWK } from '@interledger/http-signature-utils'
import type { SandboxContext, Wallet } from './context.js'

// These path segments belong to the sandbox itself, so no wallet may take them as a name.
const RESERVED_NAMES = new Set(['auth', 'rs', 'sandbox', 'interact'])
const WALLET_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i

export interface WalletInput {
  name: string
  publicName?: string
  assetCode?: string
  assetScale?: number
  balance?: bigint
}

export function addWallet(ctx: SandboxContext, input: WalletInput): Wallet {
  if (!WALLET_NAME.test(input.name) || RESERVED_NAMES.has(input.name.toLowerCase())) {
    throw new Error(`invalid wallet name "${input.name}" (letters, digits, - and _; not auth, rs, sandbox or interact)`)
  }
  if (ctx.state.wallets.has(input.name)) throw new Error(`wallet "${input.name}" already exists`)
  const assetScale = input.assetScale ?? 2
  if (!Number.isInteger(assetScale) || assetScale < 0 || assetScale > 255) throw new Error('assetScale must be 0..255')
  const wallet: Wallet = {
    name: input.name,
    publicName: input.publicName ?? input.name,
    assetCode: input.assetCode ?? 'USD',
    assetScale,
    balance: input.balance ?? 0n,
    keys: [],
  }
  ctx.state.wallets.set(wallet.name, wallet)
  return wallet
}

export function getWallet(ctx: SandboxContext, name: string): Wallet {
  const wallet = ctx.state.wallets.get(name)
  if (!wallet) throw new Error(`unknown wallet "${name}"`)
  return wallet
}

/** Publishes a client key in the wallet's jwks.json; a key with the same kid is replaced. */
export function addClientKey(ctx: SandboxContext, walletName: string, jwk: JWK): void {
  const wallet = getWallet(ctx, walletName)
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.kid || !jwk.x) throw new Error('only Ed25519 JWKs with a kid')
  const { kid, x, kty, crv } = jwk
  // Only public members are published, whatever the caller passed in.
  wallet.keys = [...wallet.keys.filter((k) => k.kid !== kid), { kid, alg: 'EdDSA', use: 'sig', kty, crv, x }]
}

export function setBalance(ctx: SandboxContext, walletName: string, minorUnits: bigint): void {
  if (minorUnits < 0n) throw new Error('balance cannot be negative')
  getWallet(ctx, walletName).balance = minorUnits
}

export function createWalletRoutes(ctx: SandboxContext): Hono {
  const app = new Hono()

  app.get('/:name/jwks.json', (c) => {
    const wallet = ctx.state.wallets.get(c.req.param('name'))
    // The wallet address spec describes its 404 without a body.
    if (!wallet) return c.body(null, 404)
    return c.json({ keys: wallet.keys })
  })

  app.get('/:name', (c) => {
    const wallet = ctx.state.wallets.get(c.req.param('name'))
    if (!wallet) return c.body(null, 404)
    return c.json({
      id: ctx.urls.walletAddress(wallet.name),
      publicName: wallet.publicName,
      assetCode: wallet.assetCode,
      assetScale: wallet.assetScale,
      authServer: ctx.urls.authServer,
      resourceServer: ctx.urls.resourceServer,
    })
  })

  return app
}
