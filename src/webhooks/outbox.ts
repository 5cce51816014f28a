// The transactional outbox: a payment change and the webhook event announcing it are written in
// one transaction, so an event exists exactly when its change committed. The dispatcher sends it
// later; nothing here touches the network. An event's time (createdAt, first due time, the body's
// timestamp) is the service's clock (deps.clock).
import { monotonicFactory } from 'ulid'
import type { Payment, Prisma, RunStatement, WebhookEvent } from '../db.js'
import type { Deps } from '../deps.js'
import { debitAmountOf, type Money } from '../payments/payment-amounts.js'
import { restStatusOf, type RestStatus } from '../payments/state.js'
import { eventTypeOf } from './event-types.js'

/**
 * The JSON body the marketplace receives: the contract's fields plus the event id and details.
 * `amount` stays the seller's amount in the seller's asset; `debitAmount` is the buyer's side.
 */
export interface PaymentEventBody {
  id: string
  type: string
  pendingId: string
  offerId: string
  status: RestStatus
  state: Payment['state']
  outgoingPaymentId: string | null
  amount: string
  assetCode: string
  assetScale: number
  /** What the buyer's wallet debits, in the buyer's asset (another currency in a cross-currency checkout). */
  debitAmount: Money | null
  failureCode?: string
  failureMessage?: string
  timestamp: string
}

// Event ids (the Standard Webhooks webhook-id) are ULIDs, monotonic within this process (shared by
// the services in it: an id only has to be unique and increasing, whoever's clock it reads). The
// delivery order per payment is not theirs: it is `sequence`, assigned by the database below.
const nextEventId = monotonicFactory()

/** Builds the body from the payment as it is after the change. Only public fields: no tokens, nonces or keys. */
export function buildPaymentEventBody(id: string, payment: Payment, type: string, at: Date): PaymentEventBody {
  return {
    id,
    type,
    pendingId: payment.id,
    offerId: payment.offerId,
    status: restStatusOf[payment.state],
    state: payment.state,
    outgoingPaymentId: payment.outgoingPaymentId ?? null,
    amount: payment.amount,
    assetCode: payment.assetCode,
    assetScale: payment.assetScale,
    debitAmount: debitAmountOf(payment),
    ...(payment.failureCode ? { failureCode: payment.failureCode } : {}),
    ...(payment.failureMessage ? { failureMessage: payment.failureMessage } : {}),
    timestamp: at.toISOString(),
  }
}

/** A payment event's id, type and time, chosen before the change it announces is written. */
export interface NewPaymentEvent {
  id: string
  type: string
  status: RestStatus
  at: Date
}

/** The id, type and time of the event announcing a change to `state` (transitions.ts writes it with the change). */
export function newPaymentEvent(deps: Deps, state: Payment['state']): NewPaymentEvent {
  const at = deps.clock.now()
  return { id: nextEventId(at.getTime()), type: eventTypeOf[state], status: restStatusOf[state], at }
}

/**
 * The event announcing a change, written by the statement that makes the change
 * (src/payments/payment-writes.ts paymentChangeWithInsert, PostgreSQL): an INSERT ... SELECT from
 * the changed row `changed`, its body built by the database exactly as buildPaymentEventBody
 * builds it (the same keys in the same order, the same JSON text: row_to_json writes compact JSON
 * and escapes as JSON.stringify does; test/checkout/payment-writes.test.ts compares them byte for
 * byte). For a payment with no failure code or message (the body would carry them). `param` adds
 * a parameter and returns its placeholder.
 */
export function paymentEventInsertSql(event: NewPaymentEvent, changed: string, param: (value: unknown) => string): string {
  const id = param(event.id)
  const type = param(event.type)
  const u = (column: string) => `${changed}."${column}"`
  const debitAmount = `CASE WHEN ${u('debitAmount')} IS NOT NULL AND ${u('debitAssetCode')} IS NOT NULL AND ${u('debitAssetScale')} IS NOT NULL
      THEN (SELECT row_to_json(d) FROM (SELECT ${u('debitAmount')} AS "value", ${u('debitAssetCode')} AS "assetCode", ${u('debitAssetScale')} AS "assetScale") d) END`
  const body = `(SELECT row_to_json(b)::text FROM (SELECT ${id} AS "id", ${type} AS "type", ${u('id')} AS "pendingId", ${u('offerId')} AS "offerId",
      ${param(event.status)} AS "status", ${u('state')} AS "state", ${u('outgoingPaymentId')} AS "outgoingPaymentId", ${u('amount')} AS "amount",
      ${u('assetCode')} AS "assetCode", ${u('assetScale')} AS "assetScale", ${debitAmount} AS "debitAmount", ${param(event.at.toISOString())} AS "timestamp") b)`
  const at = param(event.at)
  return `INSERT INTO "WebhookEvent" ("id", "paymentId", "type", "payload", "status", "attempts", "nextAttemptAt", "createdAt", "sequence")
    SELECT ${id}, ${u('id')}, ${type}, ${body}, 'PENDING', 0, ${at}, ${at}, ${u('eventCount')} FROM ${changed}`
}

/** Writes the event announcing `payment`'s current state. Call it inside the transaction that changed the payment. */
export async function enqueuePaymentEvent(
  deps: Deps,
  tx: Prisma.TransactionClient,
  payment: Payment,
  type: string = eventTypeOf[payment.state],
): Promise<WebhookEvent> {
  return enqueueWebhookEvent(deps, tx, type, (id, at) => buildPaymentEventBody(id, payment, type, at), payment.id)
}

/**
 * Writes the event announcing `payment`'s current state when the caller's update in this
 * transaction already counted it (`eventCount` incremented by the same UPDATE ... RETURNING, as
 * src/payments/transitions.ts does): `payment.eventCount` is then the event's sequence. A prepared
 * statement run by `run`, the caller's transaction on the database's writer (Database.writer).
 */
export async function enqueueCountedPaymentEvent(deps: Deps, run: RunStatement, payment: Payment): Promise<void> {
  const { id, type, at } = newPaymentEvent(deps, payment.state)
  await run(
    'INSERT INTO "WebhookEvent" ("id", "paymentId", "type", "payload", "status", "attempts", "nextAttemptAt", "createdAt", "sequence") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [id, payment.id, type, JSON.stringify(buildPaymentEventBody(id, payment, type, at)), 'PENDING', 0, at, at, payment.eventCount],
  )
}

/**
 * Writes any event (declare its type in src/webhooks/event-types.ts). Events of one payment are
 * delivered in order; events without a payment form one queue of their own, also in order.
 */
export async function enqueueWebhookEvent(
  deps: Deps,
  tx: Prisma.TransactionClient,
  type: string,
  buildBody: (id: string, at: Date) => { id: string; type: string },
  paymentId: string | null = null,
): Promise<WebhookEvent> {
  // A payment's events take their place in its order from the database: the payment's row counts
  // its events, and this transaction holds that row until it commits (no clock decides the order).
  // Events without a payment keep sequence 0 and are delivered in id order (one queue of their own).
  const sequence = paymentId
    ? (await tx.payment.update({ where: { id: paymentId }, data: { eventCount: { increment: 1 } }, select: { eventCount: true } })).eventCount
    : 0
  return insertWebhookEvent(deps, tx, type, buildBody, paymentId, sequence)
}

function insertWebhookEvent(
  deps: Deps,
  tx: Prisma.TransactionClient,
  type: string,
  buildBody: (id: string, at: Date) => { id: string; type: string },
  paymentId: string | null,
  sequence: number,
): Promise<WebhookEvent> {
  const at = deps.clock.now()
  const id = nextEventId(at.getTime())
  return tx.webhookEvent.create({
    data: { id, paymentId, type, payload: JSON.stringify(buildBody(id, at)), nextAttemptAt: at, createdAt: at, sequence },
  })
}

/**
 * Tells the service's webhook workers (and on PostgreSQL every replica's) that an event of
 * `paymentId` (or, without one, events) became due: its payment's queue names the announcement, so
 * that a dispatcher delivering an earlier event of that payment claims it once that one is done.
 */
export function wakeWebhookDispatcher(deps: Deps, paymentId?: string | null): void {
  deps.db.announce('webhook_events', paymentId ?? undefined)
}

/**
 * Makes an event PENDING and due now (redelivery on request, e.g. after a dead-letter). The
 * attempt count restarts so the event gets the whole retry schedule again; the last error and
 * status code stay until the next attempt replaces them. Returns null for an unknown id. Due at
 * the service's clock's now.
 */
export async function requeueWebhookEvent(deps: Deps, id: string): Promise<WebhookEvent | null> {
  const now = deps.clock.now()
  return deps.db.prisma.$transaction(async (tx) => {
    const { count } = await tx.webhookEvent.updateMany({
      where: { id },
      // Clearing the lease fences off a delivery in flight: its outcome no longer matches and is
      // not recorded over this request, and the event goes out again.
      data: { status: 'PENDING', nextAttemptAt: now, attempts: 0, deliveredAt: null, leaseUntil: null },
    })
    return count === 0 ? null : tx.webhookEvent.findUnique({ where: { id } })
  })
}
