// Every payment state change goes through here: a compare-and-set update (only from the states
// the caller expects, so two processes racing on one database cannot both win) and, in the same
// transaction, the webhook event that announces it (transactional outbox) and the wallet clean-up
// it calls for (src/payments/cleanup.ts). Each committed change writes one info log line.
// Cost: one UPDATE ... RETURNING (which also counts the payment's events, giving the new event its
// `sequence`) and one INSERT of the event, in one transaction; an update that changes no state is
// that UPDATE alone.
import type { Payment, PaymentState, Prisma } from '../db.js'
import type { Deps } from '../deps.js'
import { enqueueCountedPaymentEvent, wakeWebhookDispatcher } from '../webhooks/outbox.js'
import { enqueueWalletCleanup } from './cleanup.js'
import { announcePaymentUpdate } from './live-updates.js'

type Update = Prisma.PaymentUpdateManyMutationInput

/** The compare-and-set: the row as it is after the update, or null when it is no longer in `from` (or fails `also`). */
async function compareAndSet(client: Prisma.TransactionClient, id: string, from: readonly PaymentState[], data: Update, also: Prisma.PaymentWhereInput) {
  const [payment] = await client.payment.updateManyAndReturn({ where: { ...also, id, state: { in: [...from] } }, data })
  return payment ?? null
}

/**
 * Updates payment `id` in place (no state change, no event) while it is in one of `from`. Returns
 * the updated payment, or null when another request or process moved it first.
 */
export function updatePayment(deps: Deps, id: string, from: readonly PaymentState[], data: Omit<Update, 'state'>, also: Prisma.PaymentWhereInput = {}): Promise<Payment | null> {
  return compareAndSet(deps.db.prisma, id, from, data, also)
}

/**
 * Moves payment `id` from one of `from` to `data.state` (or updates it in place when `data` has
 * no state). Returns the updated payment, or null when another request or process got there first.
 * `also` adds conditions the row must still meet (compared in the same update).
 */
export async function transitionPayment(deps: Deps, id: string, from: readonly PaymentState[], data: Update, also: Prisma.PaymentWhereInput = {}): Promise<Payment | null> {
  if (typeof data.state !== 'string') return updatePayment(deps, id, from, data, also)
  const updated = await deps.db.prisma.$transaction(async (tx) => {
    // With several allowed states, read which one the row is in (the update below still decides).
    const previous = from.length === 1 ? from[0] : (await tx.payment.findUnique({ where: { id }, select: { state: true } }))?.state
    // The event's place in the payment's order is counted by the same update (see enqueueCountedPaymentEvent).
    const payment = await compareAndSet(tx, id, from, { ...data, eventCount: { increment: 1 } }, also)
    if (!payment) return null
    await enqueueCountedPaymentEvent(deps, tx, payment)
    const cleanup = await enqueueWalletCleanup(deps, tx, payment)
    return { payment, previous, cleanup }
  })
  if (!updated) return null
  const { payment, previous, cleanup } = updated
  wakeWebhookDispatcher(deps)
  announcePaymentUpdate(deps, payment.id) // after the commit: followers re-read it, and never see a state that rolled back
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
