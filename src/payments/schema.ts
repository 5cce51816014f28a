// GraphQL for checkouts: the Payment type with its detailed state machine, queries (one payment,
// filtered connections, payments of an offer) and the start / finish / incoming-payment mutations.
// Resolvers act for the service that answers the request: `ctx.deps` (src/graphql/builder.ts).
import type { GraphQLResolveInfo } from 'graphql'
import type { Payment, Prisma, WalletCleanup } from '../db.js'
import type { Deps } from '../deps.js'
import { followPayment } from './live-updates.js'
import { describeEventTypes } from '../webhooks/event-types.js'
import { builder, MoneyRef, type Money } from '../graphql/builder.js'
import { selectsOnly, type FieldSet } from '../graphql/selection.js'
import { retryWalletCleanup } from './cleanup.js'
import { finishCheckout } from './finish.js'
import { createIncomingPayment } from './incoming.js'
import { paymentColumns } from './payment-rows.js'
import { findPaymentSummary, findStartedPayment, paymentSummaryColumns, paymentWhere, readPaymentPage, type PaymentFilter } from './queries.js'
import { recheckPayment } from './settlement.js'
import { startCheckout } from './start.js'
import { restStatusOf } from './state.js'
import { requireIdentifier, withoutNulls } from '../validation.js'

export const PaymentStateEnum = builder.enumType('PaymentState', {
  description: 'The detailed state machine. REST `status` maps it: pending = AWAITING_APPROVAL, FINISHING, PROCESSING; paid = COMPLETED; failed = FAILED, REJECTED, EXPIRED.',
  values: {
    AWAITING_APPROVAL: { description: 'The buyer was sent to their wallet and has not come back yet.' },
    FINISHING: { description: 'The buyer approved; the grant is being continued and the outgoing payment created.' },
    PROCESSING: { description: 'The outgoing payment exists; waiting for the seller wallet to report the money arrived.' },
    COMPLETED: { description: "The seller's incoming payment received the full amount (REST: paid)." },
    FAILED: { description: 'The payment could not be made; see failure.' },
    REJECTED: { description: 'The buyer rejected the payment in their wallet.' },
    EXPIRED: { description: 'The buyer did not approve within the consent lifetime.' },
  } as const,
})

const RestStatusEnum = builder.enumType('PaymentStatus', { values: ['pending', 'paid', 'failed'] as const })

const money = (value: string | null, assetCode: string | null, assetScale: number | null): Money | null =>
  value !== null && assetCode !== null && assetScale !== null ? { value, assetCode, assetScale } : null

// QuoteRef's id, in SUMMARY_FIELDS (below), may read only the summary's columns (paymentSummaryColumns).
const QuoteRef = builder.objectRef<Payment>('PaymentQuote').implement({
  description: 'The price the buyer approves: debitAmount is what leaves their wallet (fees included).',
  fields: (t) => ({
    id: t.string({ resolve: (p) => p.quoteId! }),
    debitAmount: t.field({ type: MoneyRef, resolve: (p) => money(p.debitAmount, p.debitAssetCode, p.debitAssetScale)! }),
    receiveAmount: t.field({ type: MoneyRef, resolve: (p) => money(p.receiveAmount, p.assetCode, p.assetScale)! }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.quoteExpiresAt }),
  }),
})

const FailureRef = builder.objectRef<Payment>('PaymentFailure').implement({
  fields: (t) => ({
    code: t.string({ resolve: (p) => p.failureCode! }),
    message: t.string({ resolve: (p) => p.failureMessage ?? '' }),
  }),
})

const SettlementRef = builder.objectRef<Payment>('PaymentSettlement').implement({
  description: 'What the wallets last reported about the money, and when the service checks again.',
  fields: (t) => ({
    sentAmount: t.field({ type: MoneyRef, nullable: true, resolve: (p) => money(p.sentAmount, p.debitAssetCode, p.debitAssetScale) }),
    receivedAmount: t.field({ type: MoneyRef, nullable: true, resolve: (p) => money(p.receivedAmount, p.assetCode, p.assetScale) }),
    partiallyReceived: t.boolean({
      resolve: (p) => p.receivedAmount !== null && BigInt(p.receivedAmount) > 0n && BigInt(p.receivedAmount) < BigInt(p.amount),
    }),
    checkAttempts: t.exposeInt('checkAttempts'),
    lastCheckedAt: t.expose('lastCheckedAt', { type: 'DateTime', nullable: true }),
    nextCheckAt: t.expose('nextCheckAt', { type: 'DateTime', nullable: true }),
  }),
})

const WalletCleanupStatusEnum = builder.enumType('WalletCleanupStatus', {
  values: {
    PENDING: { description: 'Not confirmed by the wallet yet; the worker tries again at nextAttemptAt.' },
    DONE: { description: 'The wallet confirmed (see outcome).' },
    GAVE_UP: {
      description: 'CLEANUP_RETRY_SCHEDULE ran out without the wallet confirming: the wallet may still hold it. Fix the wallet side and call retryWalletCleanup, or end it in the wallet by hand.',
    },
  } as const,
})

const WalletCleanupOutcomeEnum = builder.enumType('WalletCleanupOutcome', {
  values: {
    CANCELLED: { description: 'The buyer wallet cancelled the grant.' },
    CLOSED: { description: "The seller wallet completed the incoming payment: it accepts no more money for it." },
    ALREADY_GONE: { description: 'The wallet had already ended it (grant unknown or revoked; incoming payment completed, expired or deleted).' },
  } as const,
})

const WalletCleanupStepRef = builder.objectRef<WalletCleanup>('WalletCleanupStep').implement({
  description: 'One thing the service ends at a wallet, retried until the wallet confirms.',
  fields: (t) => ({
    status: t.field({ type: WalletCleanupStatusEnum, resolve: (step) => step.status }),
    outcome: t.field({ type: WalletCleanupOutcomeEnum, nullable: true, resolve: (step) => step.outcome as 'CANCELLED' | 'CLOSED' | 'ALREADY_GONE' | null }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (step) => (step.status === 'PENDING' ? step.nextAttemptAt : null) }),
    lastError: t.exposeString('lastError', { nullable: true, description: "The wallet's status and code on the last failed attempt." }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
})

const PaymentCleanupRef = builder.objectRef<WalletCleanup[]>('PaymentCleanup').implement({
  description:
    "What the service ends at the wallets after a checkout ended unpaid: the buyer's grant is cancelled, and the seller's incoming payment is closed when nothing was received and no outgoing payment could still pay it.",
  fields: (t) => {
    const find = (steps: WalletCleanup[], kind: WalletCleanup['step']) => steps.find((s) => s.step === kind) ?? null
    return {
      grantCancelled: t.boolean({
        description: 'The buyer wallet confirmed the grant is cancelled (or was already gone).',
        resolve: (steps) => find(steps, 'CANCEL_GRANT')?.status === 'DONE',
      }),
      incomingPaymentClosed: t.boolean({
        description: 'The seller wallet confirmed the incoming payment is closed (or had ended already).',
        resolve: (steps) => find(steps, 'CLOSE_INCOMING_PAYMENT')?.status === 'DONE',
      }),
      gaveUp: t.boolean({ description: 'A step ran out of retries (see WalletCleanupStatus.GAVE_UP).', resolve: (steps) => steps.some((s) => s.status === 'GAVE_UP') }),
      grant: t.field({ type: WalletCleanupStepRef, nullable: true, description: 'Null: no grant was requested.', resolve: (steps) => find(steps, 'CANCEL_GRANT') }),
      incomingPayment: t.field({
        type: WalletCleanupStepRef,
        nullable: true,
        description:
          'Null: the incoming payment is kept as it is: part of the money arrived (it stays open until it expires, so the seller wallet records what was received), an outgoing payment could still pay it, or the wallet ended it already.',
        resolve: (steps) => find(steps, 'CLOSE_INCOMING_PAYMENT'),
      }),
    }
  },
})

export const PaymentRef = builder.prismaNode('Payment', {
  id: { field: 'id' },
  nullable: true, // node(id) of an unknown row is null (src/graphql/node.ts)
  // A field listed in SUMMARY_FIELDS (below) may read only the summary's columns (paymentSummaryColumns).
  fields: (t) => ({
    pendingId: t.exposeString('id'),
    offerId: t.exposeString('offerId'),
    seller: t.relation('seller'),
    state: t.expose('state', { type: PaymentStateEnum }),
    status: t.field({ type: RestStatusEnum, resolve: (p) => restStatusOf[p.state] }),
    buyerWalletAddressUrl: t.exposeString('buyerWalletAddressUrl'),
    amount: t.field({ type: MoneyRef, resolve: (p) => money(p.amount, p.assetCode, p.assetScale)! }),
    redirectUrl: t.exposeString('redirectUrl', { nullable: true }),
    incomingPaymentId: t.exposeString('incomingPaymentId', { nullable: true }),
    quote: t.field({ type: QuoteRef, nullable: true, resolve: (p) => (p.quoteId ? p : null) }),
    outgoingPaymentId: t.exposeString('outgoingPaymentId', { nullable: true }),
    outgoingPayment: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The outgoing payment as the buyer wallet reported it when it was created.',
      resolve: (p) => (p.outgoingPaymentJson ? JSON.parse(p.outgoingPaymentJson) : null),
    }),
    failure: t.field({ type: FailureRef, nullable: true, resolve: (p) => (p.failureCode ? p : null) }),
    settlement: t.field({ type: SettlementRef, resolve: (p) => p }),
    cleanup: t.field({
      type: PaymentCleanupRef,
      nullable: true,
      description: 'Wallet clean-up; null unless the payment ended unpaid (FAILED, REJECTED, EXPIRED).',
      select: { walletCleanups: { orderBy: { id: 'asc' } } },
      resolve: (p) => (restStatusOf[p.state] === 'failed' ? p.walletCleanups : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
})

/** What plugin-prisma asks of a Payment field: the relations to load, and a connection's window. */
type PrismaQuery = Pick<Prisma.PaymentFindManyArgs, 'include' | 'select' | 'take' | 'skip' | 'cursor'>

/**
 * The Payment fields whose resolvers read only the summary columns (paymentSummaryColumns), with
 * the sub-fields of each object field that do. A `payment` query asking for no other field (the
 * status the marketplace polls), or a page of payments asking for no other (SUMMARY_CONNECTION),
 * reads those seven columns rather than all of them.
 * test/checkout/payment-reads.test.ts answers every field listed here from both reads.
 */
export const SUMMARY_FIELDS = {
  __typename: true,
  id: true,
  pendingId: true,
  offerId: true,
  state: true,
  status: true,
  buyerWalletAddressUrl: true,
  incomingPaymentId: true,
  outgoingPaymentId: true,
  quote: { __typename: true, id: true },
} as const satisfies FieldSet

/** A connection of payments asking only for SUMMARY_FIELDS of its nodes (a cursor is a payment's id). */
export const SUMMARY_CONNECTION = {
  __typename: true,
  edges: { __typename: true, cursor: true, node: SUMMARY_FIELDS },
  pageInfo: { __typename: true, hasNextPage: true, hasPreviousPage: true, startCursor: true, endCursor: true },
} as const satisfies FieldSet

/** Whether the query asks only for the row itself, which the prepared reads answer (src/payments/queries.ts). */
const onlyTheRow = (query: PrismaQuery) => !query.select && (!query.include || Object.keys(query.include).length === 0)

/**
 * A connection page in creation order. A forward page of bare rows is one prepared read (the
 * `after` row must exist, as Prisma's cursor requires) of the summary's columns when the page asks
 * for nothing else (SUMMARY_CONNECTION), else of whole rows. Relations, backward pages, and pages
 * that ask for no node at all (plugin-prisma then selects only the id) go through Prisma.
 */
async function paymentPage(deps: Deps, query: PrismaQuery, filter: PaymentFilter, info: GraphQLResolveInfo): Promise<Payment[]> {
  const { take, skip, cursor } = query
  const forward = take !== undefined && take > 0 && (cursor ? skip === 1 && typeof cursor.id === 'string' : !skip)
  if (!onlyTheRow(query) || !forward) return deps.db.prisma.payment.findMany({ ...query, where: paymentWhere(filter), orderBy: { id: 'asc' } })
  const page = { after: cursor?.id, afterMustExist: true, take }
  if (selectsOnly(info, SUMMARY_CONNECTION)) return readPaymentPage(deps, filter, page, paymentSummaryColumns) as Promise<Payment[]>
  return readPaymentPage(deps, filter, page, paymentColumns)
}

const PaymentFilter = builder.inputType('PaymentFilter', {
  fields: (t) => ({
    offerId: t.string(),
    sellerId: t.string(),
    status: t.field({ type: RestStatusEnum }),
    states: t.field({ type: [PaymentStateEnum] }),
  }),
})

const OfferRef = builder.objectRef<{ offerId: string }>('Offer').implement({
  description: 'A job or offer of the marketplace, and the payments made for it.',
  fields: (t) => ({
    offerId: t.exposeString('offerId'),
    payments: t.prismaConnection({
      type: 'Payment',
      cursor: 'id',
      defaultSize: 50,
      maxSize: 500,
      resolve: (query, offer, _args, ctx, info) => paymentPage(ctx.deps, query, { offerId: offer.offerId }, info),
    }),
  }),
})

builder.queryFields((t) => ({
  payment: t.prismaField({
    type: 'Payment',
    nullable: true,
    args: { pendingId: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx, info) => {
      if (!onlyTheRow(query)) return ctx.deps.db.prisma.payment.findFirst({ ...query, where: { id: args.pendingId, redirectUrl: { not: null } } })
      // Only the summary's columns are read by the fields asked for (SUMMARY_FIELDS).
      if (selectsOnly(info, SUMMARY_FIELDS)) return findPaymentSummary(ctx.deps, args.pendingId) as Promise<Payment | null>
      return findStartedPayment(ctx.deps, args.pendingId)
    },
  }),
  payments: t.prismaConnection({
    type: 'Payment',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 500,
    args: { filter: t.arg({ type: PaymentFilter }) },
    resolve: (query, _root, args, ctx, info) =>
      paymentPage(
        ctx.deps,
        query,
        {
          offerId: args.filter?.offerId ?? undefined,
          sellerId: args.filter?.sellerId ?? undefined,
          status: args.filter?.status ?? undefined,
          states: args.filter?.states ?? undefined,
        },
        info,
      ),
  }),
  offer: t.field({ type: OfferRef, args: { offerId: t.arg.string({ required: true }) }, resolve: (_root, args) => ({ offerId: requireIdentifier('offerId', args.offerId) }) }),
}))

const StartCheckoutInput = builder.inputType('StartCheckoutInput', {
  fields: (t) => ({
    offerId: t.string({ required: true }),
    sellerId: t.string({ required: true }),
    buyerWalletAddressUrl: t.string({ required: true }),
    amount: t.string({ required: true, description: 'Positive integer in minor units of the seller asset ("100" = 1.00 at scale 2).' }),
    returnUrl: t.string({ description: 'Where to send the buyer after the wallet redirect (overrides PAYMENT_RETURN_URL).' }),
    idempotencyKey: t.string({ description: 'A retry with the same key returns the same payment.' }),
  }),
})

const StartCheckoutPayload = builder.objectRef<Payment>('StartCheckoutPayload').implement({
  fields: (t) => ({
    payment: t.field({ type: PaymentRef, resolve: (p) => p }),
    redirectUrl: t.string({ description: 'Send the buyer here to approve in their wallet.', resolve: (p) => p.redirectUrl! }),
    quote: t.field({ type: QuoteRef, resolve: (p) => p }),
  }),
})

const FinishCheckoutInput = builder.inputType('FinishCheckoutInput', {
  description: 'The query parameters of the wallet redirect, for clients that receive it themselves.',
  fields: (t) => ({
    pendingId: t.string({ required: true }),
    secret: t.string({ description: 'The finish secret the finish URI carries; a `result` is accepted only with it.' }),
    hash: t.string(),
    interactRef: t.string(),
    result: t.string(),
    message: t.string(),
  }),
})

const FinishCheckoutPayload = builder.objectRef<Payment>('FinishCheckoutPayload').implement({
  fields: (t) => ({ payment: t.field({ type: PaymentRef, resolve: (p) => p }) }),
})

const CreateIncomingPaymentInput = builder.inputType('CreateIncomingPaymentInput', {
  fields: (t) => ({
    amount: t.string({ required: true }),
    description: t.string(),
    sellerId: t.string(),
    idempotencyKey: t.string(),
  }),
})

const CreateIncomingPaymentPayload = builder
  .objectRef<Awaited<ReturnType<typeof createIncomingPayment>>>('CreateIncomingPaymentPayload')
  .implement({
    fields: (t) => ({
      incomingPaymentId: t.exposeString('incomingPaymentId'),
      walletAddress: t.exposeString('walletAddress'),
      amount: t.field({ type: MoneyRef, resolve: (r) => ({ value: r.amount, assetCode: r.assetCode, assetScale: r.assetScale }) }),
    }),
  })

builder.mutationFields((t) => ({
  startCheckout: t.field({
    type: StartCheckoutPayload,
    args: { input: t.arg({ type: StartCheckoutInput, required: true }) },
    errors: {},
    resolve: (_root, { input }, ctx) => startCheckout(ctx.deps, withoutNulls(input)),
  }),
  finishCheckout: t.field({
    type: FinishCheckoutPayload,
    args: { input: t.arg({ type: FinishCheckoutInput, required: true }) },
    errors: {},
    resolve: (_root, { input }, ctx) =>
      finishCheckout(ctx.deps, withoutNulls({ pendingId: input.pendingId, secret: input.secret, hash: input.hash, interact_ref: input.interactRef, result: input.result, message: input.message })),
  }),
  recheckPayment: t.field({
    type: PaymentRef,
    description: 'Ask the wallets now whether the money arrived, instead of waiting for the next scheduled check.',
    args: { pendingId: t.arg.string({ required: true }) },
    errors: {},
    resolve: (_root, args, ctx) => recheckPayment(ctx.deps, requireIdentifier('pendingId', args.pendingId)),
  }),
  retryWalletCleanup: t.field({
    type: PaymentRef,
    description: 'Re-arm the wallet clean-up steps of a payment that gave up (after the wallet side is fixed); the worker tries them again at once.',
    args: { pendingId: t.arg.string({ required: true }) },
    errors: {},
    resolve: (_root, args, ctx) => retryWalletCleanup(ctx.deps, args.pendingId),
  }),
  createIncomingPayment: t.field({
    type: CreateIncomingPaymentPayload,
    args: { input: t.arg({ type: CreateIncomingPaymentInput, required: true }) },
    errors: {},
    resolve: (_root, { input }, ctx) => createIncomingPayment(ctx.deps, withoutNulls(input)),
  }),
}))

builder.subscriptionFields((t) => ({
  paymentUpdated: t.field({
    type: PaymentRef,
    description:
      `The payment as it is now, then every state it enters (the moments the webhook events announce), in order, until a final one: ${describeEventTypes((e) => e.final)}. Over server-sent events: POST /graphql with Accept: text/event-stream.`,
    args: { pendingId: t.arg.string({ required: true }) },
    subscribe: (_root, args, ctx) => followPayment(ctx.deps, requireIdentifier('pendingId', args.pendingId)),
    resolve: (payment) => payment,
  }),
}))
