// Job: a checkout whose buyer never came back from their wallet within the consent lifetime
// (CONSENT_TIMEOUT_SECONDS) becomes EXPIRED. The transition is a compare-and-set, so a finish that
// claimed the payment meanwhile wins; it queues the wallet clean-up (src/payments/cleanup.ts).
// Due: AWAITING_APPROVAL, sent to the wallet longer ago than the consent lifetime (by deps.clock).
import type { Config } from '../config.js'
import { Prisma, type Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { transitionPayment } from '../payments/transitions.js'
import { claimDuePayments } from '../payments/payment-rows.js'
import type { Backlog, Job } from './worker.js'

const LEASE_MS = 30_000

export function expireAbandonedCheckoutsJob(deps: Deps): Job<Payment> {
  return {
    name: 'expire-abandoned-checkouts',
    concurrency: 4,
    pollMs: deps.config.settlement.pollIntervalMs,
    wakeOn: [],
    async claim(limit) {
      const now = deps.clock.now()
      return claimDuePayments(deps, {
        due: Prisma.sql`t."state" = 'AWAITING_APPROVAL' AND t."redirectUrl" IS NOT NULL AND t."grantRequestedAt" < ${abandonedBefore(deps.config, now)}`,
        orderBy: Prisma.sql`t."grantRequestedAt"`,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + LEASE_MS),
      })
    },
    async run(payment) {
      await transitionPayment(deps, payment.id, ['AWAITING_APPROVAL'], {
        state: 'EXPIRED',
        failureCode: 'CONSENT_EXPIRED',
        failureMessage: 'The buyer did not approve in time',
        finishedAt: deps.clock.now(),
        leaseUntil: null,
      })
    },
  }
}

function abandonedBefore(config: Config, now: Date): Date {
  return new Date(now.getTime() - config.openPayments.consentTimeoutMs)
}

export async function abandonedCheckoutBacklog(deps: Deps, now: Date): Promise<Backlog> {
  const due = await deps.db.prisma.payment.aggregate({
    where: { state: 'AWAITING_APPROVAL', redirectUrl: { not: null }, grantRequestedAt: { lt: abandonedBefore(deps.config, now) } },
    _count: { _all: true },
    _min: { grantRequestedAt: true },
  })
  const since = due._min.grantRequestedAt
  return { due: due._count._all, oldestDueAt: since && new Date(since.getTime() + deps.config.openPayments.consentTimeoutMs) }
}
