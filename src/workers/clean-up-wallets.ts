// Job: wallet clean-up after a checkout ended unpaid (src/payments/cleanup.ts: cancel the buyer's
// grant, close the seller's incoming payment), retried on CLEANUP_RETRY_SCHEDULE until the wallet
// confirms or the schedule runs out. Due: a PENDING step whose attempt time came (by deps.clock).
// Woken when steps are written (in the transaction that ended the payment: src/payments/transitions.ts)
// or re-armed (retryWalletCleanup).
import { Prisma, type Payment, type WalletCleanup } from '../db.js'
import type { Deps } from '../deps.js'
import { attemptWalletCleanupStep, CLEANUP_LEASE_MS } from '../payments/cleanup.js'
import type { Backlog, Job } from './worker.js'

interface ClaimedStep {
  step: WalletCleanup
  payment: Payment
  leaseUntil: Date
}

export function cleanUpWalletsJob(deps: Deps): Job<ClaimedStep> {
  return {
    name: 'clean-up-wallets',
    concurrency: 8,
    pollMs: deps.config.settlement.pollIntervalMs,
    wakeOn: ['wallet_cleanups'],
    async claim(limit) {
      const now = deps.clock.now()
      const leaseUntil = new Date(now.getTime() + CLEANUP_LEASE_MS)
      const claimed = await deps.db.claimDueRows({
        table: 'WalletCleanup',
        due: Prisma.sql`t."status" = 'PENDING' AND t."nextAttemptAt" <= ${now}`,
        orderBy: Prisma.sql`t."nextAttemptAt"`,
        limit,
        now,
        leaseUntil,
      })
      if (claimed.length === 0) return []
      const steps = await deps.db.prisma.walletCleanup.findMany({ where: { id: { in: claimed.map((row) => row.id) } }, include: { payment: true } })
      return steps.map(({ payment, ...step }) => ({ step, payment, leaseUntil }))
    },
    async run({ step, payment, leaseUntil }) {
      await attemptWalletCleanupStep(deps, step, payment, leaseUntil)
    },
  }
}

export async function walletCleanupBacklog(deps: Deps, now: Date): Promise<Backlog> {
  const due = await deps.db.prisma.walletCleanup.aggregate({ where: { status: 'PENDING', nextAttemptAt: { lte: now } }, _count: { _all: true }, _min: { nextAttemptAt: true } })
  return { due: due._count._all, oldestDueAt: due._min.nextAttemptAt }
}
