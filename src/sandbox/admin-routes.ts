import { Hono, type Context } from 'hono'
import { z } from 'zod'
import type { JWK } from '@interledger/http-signature-utils'
import type { SandboxContext } from './context.js'
import { sendError } from './errors.js'
import { addClientKey, addWallet, getWallet, setBalance } from './wallets.js'
import { decideInteraction } from './consent.js'
import { settleOutgoingPayment } from './funding.js'
import { parseRateTable } from './rates.js'
import { describeGrantStatus } from './auth-routes.js'
import { describeIncomingPayment } from './resource-routes.js'

const minorUnits = z.string().regex(/^\d{1,20}$/).transform((v) => BigInt(v))

const walletSchema = z.object({
  name: z.string(),
  publicName: z.string().optional(),
  assetCode: z.string().optional(),
  assetScale: z.number().int().optional(),
  balance: minorUnits.optional(),
})
const keySchema = z.object({
  jwk: z.object({ kid: z.string(), kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), alg: z.literal('EdDSA').optional() }),
})
const balanceSchema = z.object({ balance: minorUnits })
const fundSchema = z.object({ id: z.string().url(), receiveAmount: minorUnits.optional() })
const fundingModeSchema = z.object({ mode: z.enum(['auto', 'manual', 'fail']) })
// The shape a rates service answers: {"base": "USD", "rates": {"EUR": 0.91}} (strings welcome).
const ratesSchema = z.object({ base: z.string(), rates: z.record(z.string(), z.union([z.string(), z.number()])) })

/** Every admin route, for the index at /sandbox/ and the README. */
export const adminRouteIndex = [
  { method: 'POST', path: '/wallets', body: '{ name, publicName?, assetCode?, assetScale?, balance? }', does: 'adds a wallet address' },
  { method: 'POST', path: '/wallets/:name/keys', body: '{ jwk }', does: "publishes a client's Ed25519 public key in the wallet's jwks.json" },
  { method: 'PUT', path: '/wallets/:name/balance', body: '{ balance }', does: 'sets the balance (minor units)' },
  { method: 'GET', path: '/wallets/:name/balance', does: 'reads the balance' },
  { method: 'PUT', path: '/funding-mode', body: "{ mode: 'auto' | 'manual' | 'fail' }", does: 'how outgoing payments get funded' },
  { method: 'POST', path: '/outgoing-payments/fund', body: '{ id, receiveAmount? }', does: 'funds an outgoing payment now (manual mode)' },
  { method: 'POST', path: '/interactions/:id/approve', does: "approves a consent as the buyer; answers the client's finishUrl" },
  { method: 'POST', path: '/interactions/:id/reject', does: "rejects a consent as the buyer; answers the client's finishUrl" },
  { method: 'GET', path: '/rates', does: 'reads the exchange rate table ({ base, rates })' },
  { method: 'PUT', path: '/rates', body: '{ base, rates: { CODE: rate } }', does: 'replaces the exchange rate table (later quotes use it)' },
  { method: 'GET', path: '/grants', does: "each grant's finalized state and reason" },
  { method: 'GET', path: '/incoming-payments', does: "each incoming payment's completed flag and amounts" },
] as const

/**
 * The sandbox's own JSON API under /sandbox/: what a person or another process needs to set up a
 * demo over HTTP (wallets, client keys, balances) and to act as the buyer (approve, fund).
 * Unsigned on purpose: it is the wallet's back office, not part of Open Payments.
 */
export function createAdminRoutes(ctx: SandboxContext): Hono {
  const app = new Hono()

  // The index: what the printed admin URL answers (the same list is in the README).
  const index = (c: Context) =>
    c.json({
      sandbox: 'Open Payments sandbox wallet (test money, in memory)',
      wallets: Object.fromEntries([...ctx.state.wallets.keys()].map((name) => [name, ctx.urls.walletAddress(name)])),
      routes: adminRouteIndex.map((r) => ({ ...r, url: `${ctx.urls.origin}/sandbox${r.path}` })),
    })
  app.get('/', index)

  app.post('/wallets', (c) =>
    act(c, walletSchema, (input) => {
      const wallet = addWallet(ctx, input)
      return { id: ctx.urls.walletAddress(wallet.name) }
    }),
  )
  app.post('/wallets/:name/keys', (c) =>
    act(c, keySchema, ({ jwk }) => {
      addClientKey(ctx, c.req.param('name'), { alg: 'EdDSA', ...jwk } as JWK)
      return { keys: getWallet(ctx, c.req.param('name')).keys }
    }),
  )
  app.put('/wallets/:name/balance', (c) =>
    act(c, balanceSchema, ({ balance }) => {
      setBalance(ctx, c.req.param('name'), balance)
      return { balance: balance.toString() }
    }),
  )
  app.get('/wallets/:name/balance', (c) => {
    const wallet = ctx.state.wallets.get(c.req.param('name'))
    if (!wallet) return sendError(c, 404, 'not_found', 'unknown wallet')
    return c.json({ balance: wallet.balance.toString(), assetCode: wallet.assetCode, assetScale: wallet.assetScale })
  })
  app.put('/funding-mode', (c) =>
    act(c, fundingModeSchema, ({ mode }) => {
      ctx.state.fundingMode = mode
      return { mode }
    }),
  )
  // The wallet's rates service: quotes created after a PUT use the new table (rates move).
  app.get('/rates', (c) => c.json(ctx.config.rates))
  app.put('/rates', (c) =>
    act(c, ratesSchema, (table) => {
      ctx.config.rates = parseRateTable(table)
      return ctx.config.rates
    }),
  )
  app.post('/outgoing-payments/fund', (c) =>
    act(c, fundSchema, ({ id, receiveAmount }) => {
      const payment = ctx.state.outgoingPayments.get(id)
      if (!payment) throw new Error('unknown outgoing payment')
      settleOutgoingPayment(ctx, payment, receiveAmount)
      return { state: payment.state, sentAmount: payment.sent.toString(), failed: payment.failed }
    }),
  )
  // What the wallet holds, for tests and people checking that a client cleaned up after itself.
  app.get('/grants', (c) => c.json({ grants: [...ctx.state.grants.values()].map((grant) => describeGrantStatus(ctx, grant)) }))
  app.get('/incoming-payments', (c) =>
    c.json({ incomingPayments: [...ctx.state.incomingPayments.values()].map((payment) => describeIncomingPayment(ctx, payment, false)) }),
  )
  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/interactions/:id/${decision}`, (c) => {
      const grant = ctx.state.interactions.get(c.req.param('id'))
      if (!grant?.interaction) return sendError(c, 404, 'not_found', 'unknown interaction')
      const finishUrl = decideInteraction(ctx, grant.interaction.id, grant.interaction.nonce, decision === 'approve')
      return c.json({ finishUrl })
    })
  }

  return app
}

async function act<T extends z.ZodType>(c: Context, schema: T, run: (input: z.output<T>) => unknown): Promise<Response> {
  const parsed = schema.safeParse(await c.req.json().catch(() => undefined))
  if (!parsed.success) return sendError(c, 400, 'invalid_request', z.prettifyError(parsed.error))
  try {
    return c.json(run(parsed.data) as object)
  } catch (err) {
    return sendError(c, 400, 'invalid_request', (err as Error).message)
  }
}
