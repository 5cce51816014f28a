// Every payment state change goes through here: a compare-and-set update (only from the states
// the caller expects, so two processes racing on one database cannot both win) and, in the same
// transaction, the webhook event that announces it (transactional outbox) and the wallet clean-up
// it calls for (src/payments/cleanup.ts). Each committed change writes one info log line.
// Cost: one UPDATE ... RETURNING (which also counts the payment's events, giving the new event its
// `sequence`) and one INSERT of the event, in one transaction; on PostgreSQL both are one statement
// (a data-modifying WITH: one round trip instead of four) unless the change may call for a wallet
// clean-up or the payment has failure details. An update that changes no state is that UPDATE
// alone. They are prepared statements on the database's writer (src/payments/payment-writes.ts),
// not Prisma queries: the service's most frequent writes.
import type { Payment, PaymentState, WalletCleanupStep } from '../db.js'
import type { Deps } from '../deps.js'
import { enqueueCountedPaymentEvent, newPaymentEvent, paymentEventInsertSql, wakeWebhookDispatcher } from '../webhooks/outbox.js'
import { announceWalletCleanups, enqueueWalletCleanup, walletCleanupEndStates } from './cleanup.js'
import { announcePaymentUpdate } from './live-updates.js'
import { asPrismaRow } from './payment-rows.js'
import { paymentChangeWithInsert, paymentInsert, paymentUpdate, type NewPayment, type PaymentChange, type PaymentCondition } from './payment-writes.js'

/**
 * Creates a payment (state AWAITING_APPROVAL, no event yet: start announces it once it has its
 * wallet resources, src/payments/start.ts). Throws what isUniqueViolation (src/db.ts) recognises
 * when its idempotency key is taken.
 */
export async function createPayment(deps: Deps, payment: NewPayment): Promise<Payment> {
  const { sql, params } = paymentInsert(payment)
  const [row] = await deps.db.writer.run(sql, params)
  return asPrismaRow<Payment>(row)
}

/**
 * Updates payment `id` in place (no state change, no event) while it is in one of `from` (and
 * meets `also`). Returns the updated payment, or null when another request or process moved it first.
 */
export async function updatePayment(deps: Deps, id: string, from: readonly PaymentState[], data: Omit<PaymentChange, 'state'>, also: PaymentCondition = {}): Promise<Payment | null> {
  const { sql, params } = paymentUpdate(id, from, data, also)
  const [row] = await deps.db.writer.run(sql, params)
  return row ? asPrismaRow<Payment>(row) : null
}

/**
 * Moves payment `id` from one of `from` to `data.state` (or updates it in place when `data` has
 * no state). Returns the updated payment, or null when another request or process got there first.
 * `also` adds conditions the row must still meet (compared in the same update).
 */
export async function transitionPayment(deps: Deps, id: string, from: readonly PaymentState[], data: PaymentChange, also: PaymentCondition = {}): Promise<Payment | null> {
  if (typeof data.state !== 'string') return updatePayment(deps, id, from, data, also)
  const change = data as PaymentChange & { state: PaymentState }
  const updated =
    (inOneStatement(deps, from, change, also) && (await changeInOneStatement(deps, id, from, change, also))) || (await changeInTransaction(deps, id, from, change, also))
  if (!updated) return null
  const { payment, previous, cleanup } = updated
  wakeWebhookDispatcher(deps, payment.id)
  announcePaymentUpdate(deps, payment.id) // after the commit: followers re-read it, and never see a state that rolled back
  // Its first check comes due soon: the settlement worker sets its timer for then (src/workers/check-settlements.ts).
  if (payment.state === 'PROCESSING') deps.db.announce('settlement_checks', payment.nextCheckAt?.toISOString())
  if (cleanup.length > 0) announceWalletCleanups(deps)
  // Start re-sets AWAITING_APPROVAL to announce a new payment: that line says `from: null`.
  deps.logger.info(
    {
      pendingId: payment.id,
      from: previous === payment.state ? null : previous,
      to: payment.state,
      ...(payment.failureCode ? { failureCode: payment.failureCode } : {}),
      ...(cleanup.length > 0 ? { walletCleanup: cleanup } : {}),
    },
    'payment state changed',
  )
  return payment
}

interface Changed {
  payment: Payment
  previous: PaymentState | undefined
  cleanup: WalletCleanupStep[]
}

/**
 * Whether the change and its event can be one statement (PostgreSQL: one round trip instead of
 * four). Not when the previous state must be read (several allowed), nor for an end that may call
 * for a wallet clean-up, nor for a payment with failure details: the event body is then built in
 * JavaScript (paymentEventInsertSql builds it without them).
 */
function inOneStatement(deps: Deps, from: readonly PaymentState[], data: PaymentChange & { state: PaymentState }, also: PaymentCondition): boolean {
  return (
    deps.db.changesWithInserts &&
    from.length === 1 &&
    !walletCleanupEndStates.has(data.state) &&
    [data.failureCode, data.failureMessage, also.failureCode, also.failureMessage].every((value) => value === undefined)
  )
}

/**
 * The change and its event in one statement; null when the compare-and-set failed (or the payment
 * has failure details): the transaction then decides (a lost race costs its statements again).
 * The event's time is taken before the statement, which may then wait for the row: as the events
 * of two changes racing on one payment may then carry times out of their order, their `sequence`
 * (counted by the row) is what orders them, as everywhere.
 */
async function changeInOneStatement(deps: Deps, id: string, from: readonly PaymentState[], data: PaymentChange & { state: PaymentState }, also: PaymentCondition): Promise<Changed | null> {
  const event = newPaymentEvent(deps, data.state)
  const { sql, params } = paymentChangeWithInsert(id, from, { ...data, eventCount: { increment: 1 } }, { ...also, failureCode: null, failureMessage: null }, (changed, param) =>
    paymentEventInsertSql(event, changed, param),
  )
  const [row] = await deps.db.writer.run(sql, params)
  return row ? { payment: asPrismaRow<Payment>(row), previous: from[0], cleanup: [] } : null
}

/** The change, its event and the wallet clean-up it calls for, as one transaction of several statements. */
function changeInTransaction(deps: Deps, id: string, from: readonly PaymentState[], data: PaymentChange, also: PaymentCondition): Promise<Changed | null> {
  return deps.db.writer.transaction(async (run) => {
    // With several allowed states, read which one the row is in (the update below still decides).
    const previous = from.length === 1 ? from[0] : (await run<Pick<Payment, 'state'>>('SELECT "state" FROM "Payment" WHERE "id" = $1', [id]))[0]?.state
    // The event's place in the payment's order is counted by the same update (see enqueueCountedPaymentEvent).
    const { sql, params } = paymentUpdate(id, from, { ...data, eventCount: { increment: 1 } }, also)
    const [row] = await run(sql, params)
    if (!row) return null
    const payment = asPrismaRow<Payment>(row)
    await enqueueCountedPaymentEvent(deps, run, payment)
    const cleanup = await enqueueWalletCleanup(deps, run, payment)
    return { payment, previous, cleanup }
  })
}
