// Job: check the settlement of PROCESSING payments (src/payments/settlement.ts checkSettlement):
// read the wallets until the money arrived (COMPLETED) or cannot (FAILED): first a second after the
// outgoing payment was created, then with backoff (1 s doubling to 5 min). Due: PROCESSING with its
// next check time come (by deps.clock). A payment becoming PROCESSING is announced with its first
// check time (src/payments/transitions.ts), and the worker sleeps until then; after its checks it
// sleeps until the earliest next check time (nextDueAt), so each check runs on time (within 100
// ms) instead of at the next poll.
import { Prisma, type Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { checkLeaseMs, checkSettlement } from '../payments/settlement.js'
import { claimDuePayments, toDate } from '../payments/payment-rows.js'
import type { SellerIdentity } from '../open-payments/wallets.js'
import { sellerIdentityOf, sellerIdentityOfPayments } from '../sellers/service.js'
import type { Backlog, Job } from './worker.js'

// Down the (state, nextCheckAt) index to the first payment no other process holds.
const nextCheckSql = `SELECT MIN("nextCheckAt") AS "dueAt" FROM "Payment"
  WHERE "state" = 'PROCESSING' AND "nextCheckAt" IS NOT NULL AND ("leaseUntil" IS NULL OR "leaseUntil" < $1)`

/** A claimed check: the payment, and its seller as the claim read it (no read of its own). */
interface ClaimedCheck {
  payment: Payment
  seller: SellerIdentity | undefined
}

export function checkSettlementsJob(deps: Deps): Job<ClaimedCheck> {
  return {
    name: 'check-settlements',
    concurrency: 8,
    pollMs: deps.config.settlement.pollIntervalMs,
    wakeOn: ['settlement_checks'],
    // Announced with the first check's time (src/payments/transitions.ts); checks coming due within
    // the same 100 ms are claimed together.
    announcesDueTimes: true,
    tickMs: 100,
    async claim(limit) {
      const now = deps.clock.now()
      const payments = await claimDuePayments(deps, {
        due: Prisma.sql`t."state" = 'PROCESSING' AND t."nextCheckAt" <= ${now}`,
        orderBy: Prisma.sql`t."nextCheckAt"`,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + checkLeaseMs(deps)),
        alsoReturning: Prisma.raw(sellerIdentityOfPayments('"Payment"')),
      })
      return payments.map((payment) => ({ seller: sellerIdentityOf(payment), payment }))
    },
    async nextDueAt() {
      const [next] = await deps.db.readRows<{ dueAt: unknown }>(nextCheckSql, [deps.clock.now()])
      return next?.dueAt == null ? null : toDate(next.dueAt)
    },
    async run({ payment, seller }) {
      const checked = await checkSettlement(deps, payment, seller) // records its own failures and the next check time
      return { dueAgainAt: checked.state === 'PROCESSING' ? checked.nextCheckAt : null } // the worker looks again then
    },
  }
}

export async function settlementCheckBacklog(deps: Deps, now: Date): Promise<Backlog> {
  const due = await deps.db.prisma.payment.aggregate({ where: { state: 'PROCESSING', nextCheckAt: { lte: now } }, _count: { _all: true }, _min: { nextCheckAt: true } })
  return { due: due._count._all, oldestDueAt: due._min.nextCheckAt }
}
