// Job: resume finishes that stopped half-way (src/payments/finish.ts completeFinishing). A finish
// claims its payment (FINISHING) with a lease it renews while it works; the lease runs out when
// its process died, or when the wallet failed and the next try waits (FINISH_RETRY_SCHEDULE, then
// FAILED / WALLET_UNAVAILABLE). Due: FINISHING, lease free, retry time (if any) come (by
// deps.clock). A resumed finish first looks for an outgoing payment already made under the grant.
import { Prisma, type Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { completeFinishing } from '../payments/finish.js'
import { claimDuePayments } from '../payments/payment-rows.js'
import type { Backlog, Job } from './worker.js'

export function resumeFinishesJob(deps: Deps): Job<Payment> {
  const log = deps.logger.child({ component: 'settlement' })
  return {
    name: 'resume-finishes',
    concurrency: 4,
    pollMs: deps.config.settlement.pollIntervalMs,
    wakeOn: [], // due only when a lease runs out or a retry time comes: the poll finds them
    async claim(limit) {
      const now = deps.clock.now()
      return claimDuePayments(deps, {
        due: Prisma.sql`t."state" = 'FINISHING' AND (t."nextCheckAt" IS NULL OR t."nextCheckAt" <= ${now})`,
        orderBy: Prisma.sql`t."id"`,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + deps.config.settlement.finishLeaseMs),
      })
    },
    async run(payment) {
      await completeFinishing(deps, payment).catch((error) => {
        log.warn({ pendingId: payment.id, code: error instanceof AppError ? error.code : 'INTERNAL' }, 'resuming a finish failed; will retry')
      })
    },
  }
}

export async function finishResumeBacklog(deps: Deps, now: Date): Promise<Backlog> {
  const due = await deps.db.prisma.payment.aggregate({
    where: {
      state: 'FINISHING',
      OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }],
      AND: [{ OR: [{ nextCheckAt: null }, { nextCheckAt: { lte: now } }] }],
    },
    _count: { _all: true },
    _min: { nextCheckAt: true, leaseUntil: true },
  })
  const since = [due._min.nextCheckAt, due._min.leaseUntil].filter((at): at is Date => at !== null)
  return { due: due._count._all, oldestDueAt: since.length > 0 ? new Date(Math.min(...since.map(Number))) : null }
}
