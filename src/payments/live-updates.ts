// Live payment status: every committed state change, published by transitionPayment after its
// transaction commits (so nobody sees a state that rolled back), and the per-payment stream the
// `paymentUpdated` subscription serves over server-sent events. In-process: subscribers on this
// process see changes made by this process.
import { createPubSub } from 'graphql-yoga'
import { db, type Payment } from '../db.js'
import { AppError } from '../errors.js'
import { restStatusOf } from './state.js'

const pubSub = createPubSub<{ 'payment:updated': [pendingId: string, payment: Payment] }>()

/** Announces a committed state change. Call it after the transaction that made the change. */
export function publishPaymentUpdate(payment: Payment): void {
  pubSub.publish('payment:updated', payment.id, payment)
}

// A payment only moves forward: a state at or before the one already sent is old news.
const progressOf = (payment: Payment) =>
  ({ AWAITING_APPROVAL: 0, FINISHING: 1, PROCESSING: 2 } as Record<string, number>)[payment.state] ?? 3

/**
 * The payment as it is now, then each state it enters, in order, until a final one. Subscribes
 * before reading the current row, so a change committed in between is not missed.
 */
export async function* followPayment(pendingId: string): AsyncGenerator<Payment> {
  const updates = pubSub.subscribe('payment:updated', pendingId)
  try {
    const current = await db.payment.findFirst({ where: { id: pendingId, redirectUrl: { not: null } } })
    if (!current) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId })
    let last = current
    yield current
    if (restStatusOf[current.state] !== 'pending') return
    for await (const payment of updates) {
      if (progressOf(payment) <= progressOf(last)) continue
      last = payment
      yield payment
      if (restStatusOf[payment.state] !== 'pending') return
    }
  } finally {
    await updates.return?.()
  }
}
