import { randomUUID } from 'node:crypto'
import { Hono, type Context } from 'hono'
import type {
  AccessAction,
  AccessItem,
  AccessToken,
  Grant,
  IncomingPayment,
  OutgoingPayment,
  Quote,
  SandboxContext,
  Wallet,
} from './context.js'
import { answer, SandboxError } from './errors.js'
import { debitForReceive, isSameAsset, parseMinorUnits, receiveForDebit, toAmount, walletAmount } from './money.js'
import { hasExchangeRate } from './rates.js'
import { parseJsonBody, verifyRequestSignature } from './signatures.js'
import { readGnapToken } from './tokens.js'
import { grantClientKeys } from './auth-routes.js'
import { scheduleFunding } from './funding.js'

type ResourceType = AccessItem['type']

interface Authorized {
  grant: Grant
  token: AccessToken
  item: AccessItem
  // read-all / list-all: not limited to what this client (or grant) created
  all: boolean
  clientKey: string
  body: Record<string, unknown>
}

export function createResourceRoutes(ctx: SandboxContext): Hono {
  const app = new Hono()
  const rs = ctx.urls.resourceServer

  app.post('/incoming-payments', (c) =>
    answer(c, async () => {
      const body = await readBody(c)
      const auth = await authorize(ctx, c, 'incoming-payment', 'create', body.walletAddress)
      const payment = createIncomingPayment(ctx, auth)
      return c.json(describeIncomingPayment(ctx, payment, true), 201)
    }),
  )

  app.get('/incoming-payments', (c) =>
    answer(c, async () => {
      const walletAddress = c.req.query('wallet-address')
      const auth = await authorize(ctx, c, 'incoming-payment', 'list', walletAddress)
      const items = [...ctx.state.incomingPayments.values()].filter(
        (p) => p.wallet === walletAddress && (auth.all || p.clientKey === auth.clientKey),
      )
      return c.json(describePage(items.map((p) => describeIncomingPayment(ctx, p, false))))
    }),
  )

  app.get('/incoming-payments/:id', (c) =>
    answer(c, async () => {
      const payment = ctx.state.incomingPayments.get(`${rs}/incoming-payments/${c.req.param('id')}`)
      // Without a token anyone may see the public part: what was received and where to get a grant.
      if (!c.req.header('authorization')) {
        if (!payment) throw notFound()
        return c.json({ receivedAmount: receivedAmountOf(ctx, payment), authServer: ctx.urls.authServer })
      }
      const auth = await authorize(ctx, c, 'incoming-payment', 'read', payment?.wallet)
      if (!payment || !canSee(auth, payment.clientKey)) throw notFound()
      return c.json(describeIncomingPayment(ctx, payment, true))
    }),
  )

  app.post('/incoming-payments/:id/complete', (c) =>
    answer(c, async () => {
      const payment = ctx.state.incomingPayments.get(`${rs}/incoming-payments/${c.req.param('id')}`)
      const auth = await authorize(ctx, c, 'incoming-payment', 'complete', payment?.wallet)
      if (!payment || !canSee(auth, payment.clientKey)) throw notFound()
      // Rafiki completes only a pending or processing payment; completed or expired is "wrong state".
      if (payment.completed || isExpired(ctx, payment)) throw new SandboxError(409, '409', 'wrong state')
      payment.completed = true
      return c.json(describeIncomingPayment(ctx, payment, false))
    }),
  )

  app.post('/quotes', (c) =>
    answer(c, async () => {
      const body = await readBody(c)
      const auth = await authorize(ctx, c, 'quote', 'create', body.walletAddress)
      const quote = createQuote(ctx, auth)
      return c.json(describeQuote(quote), 201)
    }),
  )

  app.get('/quotes/:id', (c) =>
    answer(c, async () => {
      const quote = ctx.state.quotes.get(`${rs}/quotes/${c.req.param('id')}`)
      const auth = await authorize(ctx, c, 'quote', 'read', quote?.wallet)
      if (!quote || !canSee(auth, quote.clientKey)) throw notFound()
      return c.json(describeQuote(quote))
    }),
  )

  app.post('/outgoing-payments', (c) =>
    answer(c, async () => {
      const body = await readBody(c)
      const auth = await authorize(ctx, c, 'outgoing-payment', 'create', body.walletAddress)
      const { payment, spentBefore } = createOutgoingPayment(ctx, auth)
      scheduleFunding(ctx, payment)
      return c.json(
        {
          ...describeOutgoingPayment(payment),
          grantSpentReceiveAmount: toAmount(spentBefore.receive, payment.receiveAmount),
          grantSpentDebitAmount: toAmount(spentBefore.debit, payment.debitAmount),
        },
        201,
      )
    }),
  )

  app.get('/outgoing-payments', (c) =>
    answer(c, async () => {
      const walletAddress = c.req.query('wallet-address')
      const auth = await authorize(ctx, c, 'outgoing-payment', 'list', walletAddress)
      // `list` shows what this grant created (the service finds a payment it already made this way).
      const items = [...ctx.state.outgoingPayments.values()].filter(
        (p) => p.wallet === walletAddress && (auth.all || p.grantId === auth.grant.id),
      )
      return c.json(describePage(items.map(describeOutgoingPayment)))
    }),
  )

  app.get('/outgoing-payments/:id', (c) =>
    answer(c, async () => {
      const payment = ctx.state.outgoingPayments.get(`${rs}/outgoing-payments/${c.req.param('id')}`)
      const auth = await authorize(ctx, c, 'outgoing-payment', 'read', payment?.wallet)
      if (!payment || !canSee(auth, payment.clientKey)) throw notFound()
      return c.json(describeOutgoingPayment(payment))
    }),
  )

  app.get('/outgoing-payment-grant', (c) =>
    answer(c, async () => {
      const auth = await authorize(ctx, c, 'outgoing-payment', 'read', undefined)
      const { debitAsset, receiveAsset } = grantAssets(ctx, auth)
      return c.json({
        spentReceiveAmount: receiveAsset ? toAmount(auth.grant.spentReceive, receiveAsset) : null,
        spentDebitAmount: debitAsset ? toAmount(auth.grant.spentDebit, debitAsset) : null,
      })
    }),
  )

  return app
}

/**
 * The assets a grant's spent amounts are counted in: debits in the payer's asset, receipts in the
 * receiver's (they differ in a cross-currency payment). Taken from the limits, else the wallets.
 */
function grantAssets(ctx: SandboxContext, auth: Authorized) {
  const limits = auth.item.limits ?? {}
  const payer = walletOf(ctx, auth.item.identifier)
  const incoming = limits.receiver ? ctx.state.incomingPayments.get(limits.receiver) : undefined
  const paid = [...ctx.state.outgoingPayments.values()].find((p) => p.grantId === auth.grant.id)
  return {
    debitAsset: limits.debitAmount ?? payer,
    receiveAsset: limits.receiveAmount ?? paid?.receiveAmount ?? incoming?.incomingAmount ?? walletOf(ctx, incoming?.wallet) ?? payer,
  }
}

function notFound(): SandboxError {
  return new SandboxError(404, 'not_found', 'Not Found')
}

// Rafiki answers every refused resource action with this body (transcript STEP 14).
function forbidden(): SandboxError {
  return new SandboxError(403, '403', 'unauthorized')
}

function canSee(auth: Authorized, ownerKey: string): boolean {
  return auth.all || ownerKey === auth.clientKey
}

function walletOf(ctx: SandboxContext, url: unknown): Wallet | undefined {
  if (typeof url !== 'string') return undefined
  return ctx.state.wallets.get(ctx.urls.walletNameOf(url) ?? '')
}

// The body is parsed before authorization only to learn which wallet address it is about; it is
// trusted only after the signature (which covers its digest) has been verified.
async function readBody(c: Context) {
  return parseJsonBody(await c.req.text())
}

/**
 * GNAP at the resource server: a live token, a request signed by the key of the grant's client,
 * and an access item of the right type and action for this wallet address.
 */
async function authorize(
  ctx: SandboxContext,
  c: Context,
  type: ResourceType,
  action: 'create' | 'read' | 'list' | 'complete',
  walletAddress: unknown,
): Promise<Authorized> {
  const value = readGnapToken(c.req.header('authorization'))
  const challenge = { 'WWW-Authenticate': `GNAP as_uri=${ctx.urls.authServer}` }
  if (!value) throw new SandboxError(401, 'invalid_token', 'missing access token', challenge)
  const token = ctx.state.tokens.get(value)
  const grant = token ? ctx.state.grants.get(token.grantId) : undefined
  if (!token || !grant || token.revoked || grant.state !== 'finalized' || token.expiresAt <= ctx.config.now()) {
    throw new SandboxError(401, 'invalid_token', 'invalid or expired access token', challenge)
  }
  const body = parseJsonBody(await verifyRequestSignature(c, grantClientKeys(ctx, grant)))
  const wide = `${action}-all` as AccessAction
  const item = grant.access.find(
    (a) =>
      a.type === type &&
      (a.actions.includes(action) || a.actions.includes(wide)) &&
      (!a.identifier || walletAddress === undefined || a.identifier === walletAddress),
  )
  if (!item) throw forbidden()
  return {
    grant,
    token,
    item,
    all: item.actions.includes(wide),
    clientKey: grant.clientWallet ?? `jwk:${grant.clientJwk?.x}`,
    body,
  }
}

function requireWallet(ctx: SandboxContext, url: unknown): Wallet {
  const wallet = walletOf(ctx, url)
  if (!wallet) throw new SandboxError(400, 'invalid_request', 'unknown wallet address')
  return wallet
}

/** An optional amount of a request body; when `asset` is given, the amount must be in it. */
function parseOptionalAmount(value: unknown, field: string, asset?: Wallet): bigint | undefined {
  if (value === undefined) return undefined
  const amount = value as { value?: unknown }
  const minor = parseMinorUnits(amount?.value)
  if (minor === undefined || minor === 0n) throw new SandboxError(400, 'invalid_request', `invalid ${field}`)
  if (asset && !isSameAsset(value as Wallet, asset)) {
    throw new SandboxError(400, 'invalid_amount', `${field} must be in the wallet's asset (${asset.assetCode}, scale ${asset.assetScale})`)
  }
  return minor
}

function createIncomingPayment(ctx: SandboxContext, auth: Authorized): IncomingPayment {
  const { body } = auth
  const wallet = requireWallet(ctx, body.walletAddress)
  const incomingAmount = parseOptionalAmount(body.incomingAmount, 'incomingAmount', wallet)
  let expiresAt: Date | undefined
  if (body.expiresAt !== undefined) {
    expiresAt = new Date(String(body.expiresAt))
    if (Number.isNaN(expiresAt.getTime()) || expiresAt <= ctx.config.now()) {
      throw new SandboxError(400, 'invalid_request', 'invalid expiresAt')
    }
  }
  const payment: IncomingPayment = {
    id: `${ctx.urls.resourceServer}/incoming-payments/${randomUUID()}`,
    wallet: ctx.urls.walletAddress(wallet.name),
    clientKey: auth.clientKey,
    incomingAmount: incomingAmount === undefined ? undefined : walletAmount(wallet, incomingAmount),
    received: 0n,
    completed: false,
    metadata: readMetadata(body.metadata),
    createdAt: ctx.config.now(),
    expiresAt,
  }
  ctx.state.incomingPayments.set(payment.id, payment)
  return payment
}

function readMetadata(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new SandboxError(400, 'invalid_request', 'metadata must be an object')
  }
  return value as Record<string, unknown>
}

function createQuote(ctx: SandboxContext, auth: Authorized): Quote {
  const { body } = auth
  const { config } = ctx
  const sender = requireWallet(ctx, body.walletAddress)
  const incoming = typeof body.receiver === 'string' ? ctx.state.incomingPayments.get(body.receiver) : undefined
  const now = config.now()
  if (!incoming || incoming.completed || (incoming.expiresAt && incoming.expiresAt <= now)) {
    throw new SandboxError(400, 'invalid_receiver', 'invalid receiver')
  }
  const receiverWallet = requireWallet(ctx, incoming.wallet)
  // Across assets the wallet prices with its rate table, as real wallets do with a rates service.
  if (!hasExchangeRate(config.rates, receiverWallet.assetCode, sender.assetCode)) {
    throw new SandboxError(400, 'invalid_request', `no exchange rate between ${receiverWallet.assetCode} and ${sender.assetCode}`)
  }
  if (body.debitAmount !== undefined && body.receiveAmount !== undefined) {
    throw new SandboxError(400, 'invalid_request', 'only one of debitAmount or receiveAmount')
  }
  const fixedDebit = parseOptionalAmount(body.debitAmount, 'debitAmount', sender)
  const fixedReceive = parseOptionalAmount(body.receiveAmount, 'receiveAmount', receiverWallet)
  const pricing = { rates: config.rates, fee: config.quoteFee }
  const remaining = incoming.incomingAmount ? BigInt(incoming.incomingAmount.value) - incoming.received : undefined
  const receive = fixedReceive ?? (fixedDebit !== undefined ? receiveForDebit(fixedDebit, sender, receiverWallet, pricing) : remaining)
  if (receive === undefined) {
    throw new SandboxError(400, 'invalid_request', 'no amount was provided and none could be inferred from the receiver')
  }
  if (receive <= 0n || (remaining !== undefined && receive > remaining)) {
    throw new SandboxError(400, 'invalid_amount', 'invalid amount')
  }
  const debit = fixedDebit ?? debitForReceive(receive, receiverWallet, sender, pricing)
  let expiresAt = new Date(now.getTime() + config.quoteLifetimeMs)
  if (incoming.expiresAt && incoming.expiresAt < expiresAt) expiresAt = incoming.expiresAt
  const quote: Quote = {
    id: `${ctx.urls.resourceServer}/quotes/${randomUUID()}`,
    wallet: ctx.urls.walletAddress(sender.name),
    clientKey: auth.clientKey,
    receiver: incoming.id,
    debitAmount: walletAmount(sender, debit),
    receiveAmount: walletAmount(receiverWallet, receive),
    createdAt: now,
    expiresAt,
  }
  ctx.state.quotes.set(quote.id, quote)
  return quote
}

function createOutgoingPayment(ctx: SandboxContext, auth: Authorized) {
  const { body, grant, item } = auth
  const wallet = requireWallet(ctx, body.walletAddress)
  if (body.quoteId === undefined) {
    throw new SandboxError(400, 'invalid_request', 'the sandbox creates outgoing payments from a quoteId only')
  }
  const quote = typeof body.quoteId === 'string' ? ctx.state.quotes.get(body.quoteId) : undefined
  if (!quote || quote.wallet !== ctx.urls.walletAddress(wallet.name)) {
    throw new SandboxError(400, 'invalid_quote', 'invalid quote')
  }
  if (quote.expiresAt <= ctx.config.now()) throw new SandboxError(400, 'invalid_quote', 'quote expired')

  const debit = BigInt(quote.debitAmount.value)
  const receive = BigInt(quote.receiveAmount.value)
  const limits = item.limits ?? {}
  if (limits.receiver && limits.receiver !== quote.receiver) throw forbidden()
  if (limits.debitAmount) {
    const max = BigInt(limits.debitAmount.value)
    if (!isSameAsset(limits.debitAmount, quote.debitAmount) || grant.spentDebit + debit > max) throw forbidden()
  }
  if (limits.receiveAmount) {
    const max = BigInt(limits.receiveAmount.value)
    if (!isSameAsset(limits.receiveAmount, quote.receiveAmount) || grant.spentReceive + receive > max) throw forbidden()
  }
  // Rafiki gives the outgoing payment its quote's id, so a quote pays at most once.
  const id = quote.id.replace('/quotes/', '/outgoing-payments/')
  if (ctx.state.outgoingPayments.has(id)) throw new SandboxError(400, 'invalid_quote', 'quote already used')

  const spentBefore = { debit: grant.spentDebit, receive: grant.spentReceive }
  grant.spentDebit += debit
  grant.spentReceive += receive
  const payment: OutgoingPayment = {
    id,
    wallet: quote.wallet,
    clientKey: auth.clientKey,
    grantId: grant.id,
    quoteId: quote.id,
    receiver: quote.receiver,
    debitAmount: quote.debitAmount,
    receiveAmount: quote.receiveAmount,
    sent: 0n,
    failed: false,
    state: 'FUNDING',
    metadata: readMetadata(body.metadata),
    createdAt: ctx.config.now(),
  }
  ctx.state.outgoingPayments.set(payment.id, payment)
  return { payment, spentBefore }
}

function receivedAmountOf(ctx: SandboxContext, payment: IncomingPayment) {
  const wallet = walletOf(ctx, payment.wallet)
  return toAmount(payment.received, payment.incomingAmount ?? wallet ?? { assetCode: 'USD', assetScale: 2 })
}

function isExpired(ctx: SandboxContext, payment: IncomingPayment): boolean {
  return Boolean(payment.expiresAt && payment.expiresAt <= ctx.config.now())
}

export function describeIncomingPayment(ctx: SandboxContext, payment: IncomingPayment, withMethods: boolean) {
  const payable = !payment.completed && !isExpired(ctx, payment)
  return {
    id: payment.id,
    walletAddress: payment.wallet,
    ...(payment.incomingAmount ? { incomingAmount: payment.incomingAmount } : {}),
    receivedAmount: receivedAmountOf(ctx, payment),
    completed: payment.completed,
    ...(payment.metadata ? { metadata: payment.metadata } : {}),
    createdAt: payment.createdAt.toISOString(),
    ...(payment.expiresAt ? { expiresAt: payment.expiresAt.toISOString() } : {}),
    // Rafiki lists no methods once a payment can no longer receive (transcript STEP 12).
    ...(withMethods ? { methods: payable ? [describeIlpMethod(payment)] : [] } : {}),
  }
}

function describeIlpMethod(payment: IncomingPayment) {
  const key = Buffer.from(payment.id).toString('base64url').slice(-43)
  return { type: 'ilp', ilpAddress: `test.sandbox.${key}`, sharedSecret: key }
}

function describeQuote(quote: Quote) {
  return {
    id: quote.id,
    walletAddress: quote.wallet,
    receiveAmount: quote.receiveAmount,
    debitAmount: quote.debitAmount,
    receiver: quote.receiver,
    expiresAt: quote.expiresAt.toISOString(),
    createdAt: quote.createdAt.toISOString(),
    method: 'ilp',
  }
}

export function describeOutgoingPayment(payment: OutgoingPayment) {
  return {
    id: payment.id,
    walletAddress: payment.wallet,
    quoteId: payment.quoteId,
    receiveAmount: payment.receiveAmount,
    debitAmount: payment.debitAmount,
    sentAmount: toAmount(payment.sent, payment.debitAmount),
    receiver: payment.receiver,
    failed: payment.failed,
    ...(payment.metadata ? { metadata: payment.metadata } : {}),
    createdAt: payment.createdAt.toISOString(),
  }
}

// The sandbox never holds enough resources to page: one page with everything.
function describePage<T extends { id: string }>(result: T[]) {
  const edges = result.length > 0 ? { startCursor: result[0].id, endCursor: result[result.length - 1].id } : {}
  return { pagination: { hasNextPage: false, hasPreviousPage: false, ...edges }, result }
}
