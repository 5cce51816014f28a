// Job: a checkout whose buyer never came back from their wallet within the consent lifetime
// (CONSENT_TIMEOUT_SECONDS) becomes EXPIRED. The transition is a compare-and-set, so a finish that
// claimed the payment meanwhile wins; it queues the wallet clean-up (src/payments/cleanup.ts).
// Due: AWAITING_APPROVAL, sent to the wallet longer ago than the consent lifetime.
import { config } from '../config.js'
import { claimDueRows, db, Prisma, type Payment } from '../db.js'
import { transitionPayment } from '../payments/transitions.js'
import type { Backlog, Job } from './worker.js'

const LEASE_MS = 30_000

export function expireAbandonedCheckoutsJob(): Job<Payment> {
  return {
    name: 'expire-abandoned-checkouts',
    concurrency: 4,
    pollMs: config.settlement.pollIntervalMs,
    wakeOn: [],
    async claim(limit) {
      const now = new Date()
      const claimed = await claimDueRows({
        table: 'Payment',
        due: Prisma.sql`t."state" = 'AWAITING_APPROVAL' AND t."redirectUrl" IS NOT NULL AND t."grantRequestedAt" < ${abandonedBefore(now)}`,
        orderBy: Prisma.sql`t."grantRequestedAt"`,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + LEASE_MS),
      })
      return claimed.length === 0 ? [] : db.payment.findMany({ where: { id: { in: claimed.map((row) => row.id) } } })
    },
    async run(payment) {
      await transitionPayment(payment.id, ['AWAITING_APPROVAL'], {
        state: 'EXPIRED',
        failureCode: 'CONSENT_EXPIRED',
        failureMessage: 'The buyer did not approve in time',
        finishedAt: new Date(),
        leaseUntil: null,
      })
    },
  }
}

function abandonedBefore(now: Date): Date {
  return new Date(now.getTime() - config.openPayments.consentTimeoutMs)
}

export async function abandonedCheckoutBacklog(now = new Date()): Promise<Backlog> {
  const due = await db.payment.aggregate({
    where: { state: 'AWAITING_APPROVAL', redirectUrl: { not: null }, grantRequestedAt: { lt: abandonedBefore(now) } },
    _count: { _all: true },
    _min: { grantRequestedAt: true },
  })
  const since = due._min.grantRequestedAt
  return { due: due._count._all, oldestDueAt: since && new Date(since.getTime() + config.openPayments.consentTimeoutMs) }
}
