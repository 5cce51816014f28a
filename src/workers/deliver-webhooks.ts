// Job: deliver the webhook outbox to the marketplace (src/webhooks/delivery.ts posts and records).
// Due: a PENDING event whose attempt time came (by deps.clock) and that is first in its queue. Woken
// by every committed event (wakeWebhookDispatcher: deps.db.announce('webhook_events', its payment),
// from any replica on PostgreSQL), except one whose payment has an event in flight here: that
// waits, and the worker claims again once the event in flight is delivered (Job.queueOf).
//
// Ordering, per payment: events are delivered in the order they were written (their `sequence`,
// assigned by the database in the writing transaction, not their ULIDs' clock order). Only the
// head of a payment's queue (its lowest sequence still PENDING) can be claimed, so an event waits
// while an earlier one is retrying or in flight; an event that went DEAD no longer blocks the ones
// after it. Events without a payment form one queue of their own, in id order. Different payments
// never wait for each other and are delivered side by side. Delivery is at least once: a receiver
// must deduplicate on webhook-id.
import type { Pool } from 'undici'
import { Prisma } from '../db.js'
import type { Deps } from '../deps.js'
import { deliverWebhookEvent, openWebhookConnections, recordDeliveryOutcomes, type AttemptedDelivery, type DeliverableEvent } from '../webhooks/delivery.js'
import { createWebhookSigner } from '../webhooks/signing.js'
import { batchWrites } from './batched-writes.js'
import type { Backlog, Job } from './worker.js'

/** Deliveries in flight at once per service (and kept-alive connections to the marketplace). */
const CONCURRENCY = 16

export interface DeliverWebhooksOptions {
  /** A name for this dispatcher's deliveries in the logs. */
  owner?: string
}

interface ClaimedEvent {
  event: DeliverableEvent
  leaseUntil: Date
}

/**
 * The delivery job of one service: due times and leases follow deps.clock (tests drive it; the
 * signatures always carry the real time). Its connections to the marketplace are its own, opened
 * on the first delivery and closed when its worker stops.
 */
export function deliverWebhooksJob(deps: Deps, options: DeliverWebhooksOptions = {}): Job<ClaimedEvent> {
  const now = () => deps.clock.now()
  const log = deps.logger.child({ component: 'webhooks', ...(options.owner ? { owner: options.owner } : {}) })
  const { url, secrets, timeoutMs, pollIntervalMs } = deps.config.webhooks
  // Long enough that a live delivery (aborted at WEBHOOK_TIMEOUT_MS) never outlives its claim; short
  // enough that the events a killed replica held go out soon (30 s with the default 10 s timeout).
  const leaseMs = 3 * timeoutMs
  const sign = createWebhookSigner(secrets)
  if (secrets.length === 0) {
    log.warn('WEBHOOK_SECRET IS NOT SET: webhooks go out UNSIGNED and the marketplace cannot tell them from forgeries. Set WEBHOOK_SECRET (whsec_...).')
  }
  let connections: Promise<Pool> | undefined
  // Outcomes of deliveries that end within a few milliseconds of each other are written together
  // (waiting longer holds every slot longer: a burst of 1000 went at half the speed with 10 ms).
  const record = batchWrites((attempts: AttemptedDelivery[]) => recordDeliveryOutcomes(deps, attempts, now(), log), { gatherMs: 3 })

  return {
    name: 'deliver-webhooks',
    concurrency: CONCURRENCY,
    pollMs: pollIntervalMs,
    wakeOn: ['webhook_events'],
    // At most one claim per 20 ms while events keep coming (8 concurrent checkouts on PostgreSQL:
    // 1.5 claims per checkout became 1.0); an event after a quiet spell is claimed at once.
    gatherMs: 20,
    // A payment's events form its queue (announced with the payment's id: wakeWebhookDispatcher).
    // Events without a payment form one queue too, but the worker claims again after each of those.
    queueOf: ({ event }) => event.paymentId ?? undefined,

    async claim(limit) {
      const at = now()
      const leaseUntil = new Date(at.getTime() + leaseMs)
      const claimed = await deps.db.claimDueRows<DeliverableEvent>({
        table: 'WebhookEvent',
        // The head of its payment's queue: its sequence is the lowest PENDING. A scalar subquery
        // per candidate (an index lookup of the payment's few events) rather than NOT EXISTS, which
        // PostgreSQL may turn into a join: the claim is a prepared statement, and its generic plan
        // then compared every PENDING event with every other (a burst of 1000 was 12x slower).
        due: Prisma.sql`t."status" = 'PENDING' AND t."nextAttemptAt" <= ${at}
          AND (t."paymentId" IS NULL OR t."sequence" = (SELECT MIN(earlier."sequence") FROM "WebhookEvent" earlier
            WHERE earlier."paymentId" = t."paymentId" AND earlier."status" = 'PENDING'))
          AND (t."paymentId" IS NOT NULL OR NOT EXISTS (SELECT 1 FROM "WebhookEvent" earlier
            WHERE earlier."paymentId" IS NULL AND earlier."status" = 'PENDING' AND earlier."id" < t."id"))`,
        // The longest-due first, in the order of the (status, nextAttemptAt, id) index: the claim
        // walks it and stops at `limit` events, instead of sorting every due event (a burst of
        // 1000 cost ~5 ms per claim on PostgreSQL, ~1 s in all, and sometimes twice that).
        orderBy: Prisma.sql`t."nextAttemptAt", t."id"`,
        limit,
        now: at,
        leaseUntil,
        returning: ['paymentId', 'type', 'payload', 'attempts'],
      })
      return claimed.map((event) => ({ event, leaseUntil }))
    },

    async run({ event, leaseUntil }) {
      connections ??= openWebhookConnections(url, CONCURRENCY)
      const outcome = await deliverWebhookEvent(event, sign, await connections, url, timeoutMs)
      // Settles once the outcome committed: only then may the payment's next event be claimed, and
      // the worker claims it if the write saw one (an event whose lease was lost: it may); a retry
      // is looked at when it comes due.
      const recorded = (await record({ event, leaseUntil, outcome })).get(event.id)
      return { moreInQueue: recorded?.othersPending ?? true, dueAgainAt: recorded?.retryAt ?? null }
    },

    async close() {
      await (await connections)?.close()
    },
  }
}

/** Events waiting to be delivered (also those queued behind an earlier event of their payment). */
export async function webhookDeliveryBacklog(deps: Deps, now: Date): Promise<Backlog> {
  const due = await deps.db.prisma.webhookEvent.aggregate({ where: { status: 'PENDING', nextAttemptAt: { lte: now } }, _count: { _all: true }, _min: { nextAttemptAt: true } })
  return { due: due._count._all, oldestDueAt: due._min.nextAttemptAt }
}
