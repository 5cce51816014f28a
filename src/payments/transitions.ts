// Every payment state change goes through here: a compare-and-set update (only from the states
// the caller expects, so two processes racing on one database cannot both win) and, in the same
// transaction, the webhook event that announces it (transactional outbox).
import { db, Prisma, type Payment, type PaymentState } from '../db.js'
import { enqueuePaymentEvent, wakeWebhookDispatcher } from '../webhooks/outbox.js'
import { publishPaymentUpdate } from './live-updates.js'

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
    const { count } = await tx.payment.updateMany({ where: { ...also, id, state: { in: [...from] } }, data })
    if (count === 0) return null
    const payment = await tx.payment.findUniqueOrThrow({ where: { id } })
    if (changesState) await enqueuePaymentEvent(tx, payment)
    return payment
  })
  if (updated && changesState) {
    wakeWebhookDispatcher()
    publishPaymentUpdate(updated) // after the commit: subscribers never see a state that rolled back
  }
  return updated
}
