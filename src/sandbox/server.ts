import type { AddressInfo } from 'node:net'
import { Hono } from 'hono'
import { serve, type HttpBindings } from '@hono/node-server'
import pino from 'pino'
import type { JWK } from '@interledger/http-signature-utils'
import { createState, createUrls, type AccessItem, type Fault, type SandboxContext } from './context.js'
import { NO_RATES, parseRateTable, type RateTable, type RateTableInput } from './rates.js'
import { createAuthRoutes, describeGrantStatus } from './auth-routes.js'
import { createConsentRoutes, decideInteraction, parseInteractRedirect } from './consent.js'
import { createResourceRoutes, describeIncomingPayment } from './resource-routes.js'
import { createAdminRoutes } from './admin-routes.js'
import { createFaultMiddleware, validateFault } from './faults.js'
import { addClientKey, addWallet, createWalletRoutes, getWallet, setBalance } from './wallets.js'
import { settleOutgoingPayment } from './funding.js'

export type { Fault } from './context.js'
export type { RateTable, RateTableInput } from './rates.js'

export interface SandboxOptions {
  port?: number // 0 (default) = random free port
  now?: () => Date // controllable clock for expiry logic (default: real time)
  continueWaitSeconds?: number // default 5, as Rafiki
  quoteLifetimeMs?: number // default 5 min
  consentLifetimeMs?: number // default 10 min
  accessTokenLifetimeSeconds?: number // default 600
  fundingDelayMs?: number // default 500: outgoing payment FUNDING -> funded after this delay
  quoteFee?: { fixed: bigint; basisPoints: number } // default none; debitAmount = receive + fee
  /** Exchange rates for quotes between assets (default: none, so only same-asset quotes). */
  rates?: RateTableInput
  logger?: pino.Logger
  /** Sees every response the sandbox sends (tests validate them against the OpenAPI specs). */
  onResponse?: (exchange: SandboxExchange) => void
}

export interface SandboxExchange {
  method: string
  path: string
  status: number
  contentType: string | null
  body: string
}

export interface Sandbox {
  origin: string
  walletAddressUrl(name: string): string
  addWallet(w: { name: string; publicName?: string; assetCode?: string; assetScale?: number; balance?: bigint }): void
  addClientKey(walletName: string, jwk: JWK): void
  setBalance(walletName: string, minorUnits: bigint): void
  /** The wallet's balance, in minor units of its own asset. */
  balanceOf(walletName: string): bigint
  approve(redirectUrl: string): Promise<string>
  reject(redirectUrl: string): Promise<string>
  setFundingMode(mode: 'auto' | 'manual' | 'fail'): void
  /** Changes the fee of quotes created from now on (a price rise between quote and payment). */
  setQuoteFee(fee: { fixed: bigint; basisPoints: number }): void
  /** Replaces the exchange rate table; quotes created from now on use it (a rate that moves). */
  setRates(table: RateTableInput): void
  rates(): RateTable
  /** The access the grant behind an interaction asks for (to check its limits). */
  grantAccessOf(redirectUrl: string): AccessItem[]
  /** The client's finish URI of the interaction behind a redirect: what the wallet appends its parameters to. */
  finishUriOf(redirectUrl: string): string
  fundOutgoingPayment(outgoingPaymentUrl: string, opts?: { receiveAmount?: bigint }): void
  faults: { add(f: Fault): void; clear(): void }
  counts(): { incomingPayments: number; quotes: number; outgoingPayments: number; grants: number; continuations: number }
  outgoingPayments(): Array<{
    id: string
    walletAddress: string
    quoteId: string
    metadata?: Record<string, unknown>
    failed: boolean
    sentAmount: string
  }>
  /** Every grant, with whether the wallet has finalized it (issued, rejected or revoked). */
  grants(): ReturnType<typeof describeGrantStatus>[]
  /** Every incoming payment as its owner would read it (completed, receivedAmount, metadata …). */
  incomingPayments(): ReturnType<typeof describeIncomingPayment>[]
  close(): Promise<void>
}

/**
 * Starts a local Open Payments wallet (GNAP auth server, resource server, wallet addresses and a
 * consent page) on one port. State is in memory only: a restart forgets every wallet and grant.
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const app = new Hono<{ Bindings: HttpBindings }>()
  // The context needs the port for its URLs; routes read ctx.urls lazily, so fill it after listen.
  const ctx: SandboxContext = {
    config: {
      now: opts.now ?? (() => new Date()),
      continueWaitSeconds: opts.continueWaitSeconds ?? 5,
      quoteLifetimeMs: opts.quoteLifetimeMs ?? 5 * 60_000,
      consentLifetimeMs: opts.consentLifetimeMs ?? 10 * 60_000,
      accessTokenLifetimeSeconds: opts.accessTokenLifetimeSeconds ?? 600,
      fundingDelayMs: opts.fundingDelayMs ?? 500,
      quoteFee: opts.quoteFee ?? { fixed: 0n, basisPoints: 0 },
      rates: opts.rates ? parseRateTable(opts.rates) : NO_RATES,
      logger: opts.logger ?? pino({ level: 'silent' }),
    },
    state: createState(),
    urls: createUrls(0),
  }

  if (opts.onResponse) app.use(createResponseObserver(opts.onResponse))
  app.use(createFaultMiddleware(ctx))
  app.onError((err, c) => {
    ctx.config.logger.error({ err, path: c.req.path }, 'sandbox request failed')
    return c.json({ error: { code: 'request_denied', description: 'internal error' } }, 500)
  })

  const server = await listen(app.fetch, opts.port ?? 0)
  const port = (server.address() as AddressInfo).port
  ctx.urls = createUrls(port)
  app.route('/auth', createAuthRoutes(ctx))
  app.route('/rs', createResourceRoutes(ctx))
  app.route('/interact', createConsentRoutes(ctx))
  app.get('/sandbox/', (c) => c.redirect('/sandbox', 301))
  app.route('/sandbox', createAdminRoutes(ctx))
  app.route('/', createWalletRoutes(ctx))
  ctx.config.logger.info({ origin: ctx.urls.origin }, 'sandbox wallet listening')

  const decide = async (redirectUrl: string, accept: boolean) => {
    const { id, nonce } = parseInteractRedirect(redirectUrl)
    return decideInteraction(ctx, id, nonce, accept)
  }

  const grantOfInteraction = (redirectUrl: string) => {
    const grant = ctx.state.interactions.get(parseInteractRedirect(redirectUrl).id)
    if (!grant) throw new Error(`unknown interaction ${redirectUrl}`)
    return grant
  }

  return {
    origin: ctx.urls.origin,
    walletAddressUrl: (name) => ctx.urls.walletAddress(name),
    addWallet: (w) => void addWallet(ctx, w),
    addClientKey: (walletName, jwk) => addClientKey(ctx, walletName, jwk),
    setBalance: (walletName, minorUnits) => setBalance(ctx, walletName, minorUnits),
    balanceOf: (walletName) => getWallet(ctx, walletName).balance,
    approve: (redirectUrl) => decide(redirectUrl, true),
    reject: (redirectUrl) => decide(redirectUrl, false),
    setFundingMode: (mode) => {
      ctx.state.fundingMode = mode
    },
    setQuoteFee: (fee) => {
      ctx.config.quoteFee = fee
    },
    setRates: (table) => {
      ctx.config.rates = parseRateTable(table)
    },
    rates: () => ctx.config.rates,
    grantAccessOf: (redirectUrl) => grantOfInteraction(redirectUrl).access,
    finishUriOf: (redirectUrl) => grantOfInteraction(redirectUrl).interaction!.finishUri,
    fundOutgoingPayment: (url, fundOpts) => {
      const payment = ctx.state.outgoingPayments.get(url)
      if (!payment) throw new Error(`unknown outgoing payment ${url}`)
      settleOutgoingPayment(ctx, payment, fundOpts?.receiveAmount)
    },
    faults: {
      add: (f) => void ctx.state.faults.push(validateFault(f)),
      clear: () => void ctx.state.faults.splice(0),
    },
    counts: () => ({
      incomingPayments: ctx.state.incomingPayments.size,
      quotes: ctx.state.quotes.size,
      outgoingPayments: ctx.state.outgoingPayments.size,
      grants: ctx.state.grants.size,
      continuations: ctx.state.continuations,
    }),
    outgoingPayments: () =>
      [...ctx.state.outgoingPayments.values()].map((p) => ({
        id: p.id,
        walletAddress: p.wallet,
        quoteId: p.quoteId,
        ...(p.metadata ? { metadata: p.metadata } : {}),
        failed: p.failed,
        sentAmount: p.sent.toString(),
      })),
    grants: () => [...ctx.state.grants.values()].map((grant) => describeGrantStatus(ctx, grant)),
    incomingPayments: () => [...ctx.state.incomingPayments.values()].map((payment) => describeIncomingPayment(ctx, payment, false)),
    close: async () => {
      for (const timer of ctx.state.timers) clearTimeout(timer)
      ctx.state.timers.clear()
      for (const release of ctx.state.releaseHung.splice(0)) release()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

type NodeServer = ReturnType<typeof serve> & { closeAllConnections(): void }

function listen(fetch: Hono<{ Bindings: HttpBindings }>['fetch'], port: number): Promise<NodeServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: fetch as Parameters<typeof serve>[0]['fetch'], port, hostname: 'localhost' }, () => resolve(server as NodeServer))
    server.once('error', reject)
  })
}

function createResponseObserver(onResponse: (exchange: SandboxExchange) => void) {
  return async (c: import('hono').Context, next: () => Promise<void>) => {
    await next()
    const body = await c.res.clone().text()
    onResponse({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      contentType: c.res.headers.get('content-type'),
      body,
    })
  }
}
