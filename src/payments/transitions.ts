// Every payment state change goes through here: a compare-and-set update (only from the states
// the caller expects, so two processes racing on one database cannot both win) and, in the same
// transaction, the webhook event that announces it (transactional outbox) and the wallet clean-up
// it calls for (src/payments/cleanup.ts). Each committed change writes one info log line.
import { db, Prisma, type Payment, type PaymentState } from '../db.js'
import { logger } from '../logger.js'
import { enqueuePaymentEvent, wakeWebhookDispatcher } from '../webhooks/outbox.js'
import { enqueueWalletCleanup } from './cleanup.js'
import { announcePaymentUpdate } from './live-updates.js'

/**
 * Moves payment `id` from one of `from` to `data.state` (or updates it in place when `data` has
 * no state). Returns the updated payment, or null when another request or process got there first.
 * `also` adds conditions the row must still meet (compared in the same update).
 */
export async function transitionPayment(
  id: string,
  from: readonly PaymentState[],
  data: Prisma.PaymentUpdateManyMutationInput,
  also: Prisma.PaymentWhereInput = {},
): Promise<Payment | null> {
  const changesState = typeof data.state === 'string'
  const updated = await db.$transaction(async (tx) => {
    // With several allowed states, read which one the row is in (the update below still decides).
    const previous = from.length === 1 ? from[0] : (await tx.payment.findUnique({ where: { id }, select: { state: true } }))?.state
    const { count } = await tx.payment.updateMany({ where: { ...also, id, state: { in: [...from] } }, data })
    if (count === 0) return null
    const payment = await tx.payment.findUniqueOrThrow({ where: { id } })
    if (!changesState) return { payment }
    await enqueuePaymentEvent(tx, payment)
    const cleanup = await enqueueWalletCleanup(tx, payment)
    return { payment, change: { previous, cleanup } }
  })
  if (!updated) return null
  if (updated.change) {
    const { payment, change: { previous, cleanup } } = updated
    wakeWebhookDispatcher()
    announcePaymentUpdate(payment.id) // after the commit: followers re-read it, and never see a state that rolled back
    // Start re-sets AWAITING_APPROVAL to announce a new payment: that line says `from: null`.
    logger.info(
      {
        pendingId: payment.id,
        from: previous === payment.state ? null : previous,
        to: payment.state,
        ...(payment.failureCode ? { failureCode: payment.failureCode } : {}),
        ...(cleanup.length > 0 ? { walletCleanup: cleanup } : {}),
      },
      'payment state changed',
    )
  }
  return updated.payment
}
