// Live payment status: the per-payment stream the `paymentUpdated` subscription serves over
// server-sent events. transitionPayment announces a payment's id after the transaction that changed
// it commits; each follower then re-reads the row, so it only ever sees committed state. The
// announcement goes through the service's Database (src/db.ts): at once to its own followers, to
// the other replicas through PostgreSQL's NOTIFY; processes on one SQLite file look at their followed rows
// every SQLITE_POLL_MS instead. Streams are counted per service (deps.liveStreams), so two services
// in one process each keep their own LIVE_SUBSCRIPTIONS_MAX.
import { Repeater } from '@repeaterjs/repeater' // what graphql-yoga re-exports, without loading yoga at start-up
import type { Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { restStatusOf } from './state.js'

/** How often a follower re-reads its payment where announcements cannot cross processes (SQLite). */
const SQLITE_POLL_MS = 500

/** Tells every follower of `pendingId`, in any process, that its row changed. Call it after the commit. */
export function announcePaymentUpdate(deps: Deps, pendingId: string): void {
  deps.db.announce('payment_updates', pendingId)
}

// A payment only moves forward: a state at or before the one already sent is old news.
const progressOf = (payment: Payment) =>
  ({ AWAITING_APPROVAL: 0, FINISHING: 1, PROCESSING: 2 } as Record<string, number>)[payment.state] ?? 3

const isFinal = (payment: Payment) => restStatusOf[payment.state] !== 'pending'

/**
 * The payment as it is now, then each state it enters, in order, until a final one. Listens before
 * reading the current row, so a change committed in between is not missed. Re-reads run one after
 * another, each as soon as it is asked for: a state that is superseded before its re-read runs is
 * not repeated (the webhook events are the complete record), and the final state always arrives.
 */
export function followPayment(deps: Deps, pendingId: string): AsyncIterableIterator<Payment> {
  const streams = deps.liveStreams
  const max = deps.config.liveSubscriptionsMax
  return new Repeater<Payment>(async (push, stop) => {
    // Each stream holds a connection, a listener and (on SQLite) a timer: bounded per service.
    if (streams.following >= max) {
      stop(new AppError('TOO_MANY_SUBSCRIPTIONS', `This service already serves ${max} live status streams; try again later or poll payment(pendingId)`))
      return
    }
    streams.following += 1
    try {
      await followUntilFinal(deps, pendingId, push, stop)
    } finally {
      streams.following -= 1
    }
  })
}

/** The live status streams a service serves now (deps.liveStreams). */
export interface LiveStreams {
  following: number
}

export function createLiveStreams(): LiveStreams {
  return { following: 0 }
}

/** One stream's life: re-read the row on each announcement until it is final (or the client leaves). */
async function followUntilFinal(
  deps: Deps,
  pendingId: string,
  push: (payment: Payment) => Promise<unknown>,
  stop: ((error?: unknown) => void) & Promise<unknown>,
): Promise<void> {
  let last: Payment | undefined
  let reading = Promise.resolve()
  const reread = () => {
    reading = reading
      .then(async () => {
        const payment = await deps.db.prisma.payment.findFirst({ where: { id: pendingId, redirectUrl: { not: null } } })
        if (!payment) {
          if (!last) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId })
          return
        }
        if (last && progressOf(payment) <= progressOf(last)) return
        last = payment
        void push(payment)
        if (isFinal(payment)) stop()
      })
      .catch((error) => stop(error))
  }
  const stopListening = deps.db.onAnnouncement(
    'payment_updates',
    (subject) => {
      if (subject === undefined || subject === pendingId) reread()
    },
    { pollMs: SQLITE_POLL_MS },
  )
  reread() // the row as it is now
  await stop
  stopListening()
}
