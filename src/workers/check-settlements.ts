// Job: check the settlement of PROCESSING payments (src/payments/settlement.ts checkSettlement):
// read the wallets until the money arrived (COMPLETED) or cannot (FAILED), with backoff between
// checks (1 s doubling to 5 min). Due: PROCESSING with its next check time come. Woken by payment
// changes, so a payment that just became PROCESSING is checked at once instead of at the next poll.
import { config } from '../config.js'
import { claimDueRows, db, Prisma, type Payment } from '../db.js'
import { checkLeaseMs, checkSettlement } from '../payments/settlement.js'
import type { Backlog, Job } from './worker.js'

export function checkSettlementsJob(): Job<Payment> {
  return {
    name: 'check-settlements',
    concurrency: 8,
    pollMs: config.settlement.pollIntervalMs,
    wakeOn: ['payment_updates'],
    async claim(limit) {
      const now = new Date()
      const claimed = await claimDueRows({
        table: 'Payment',
        due: Prisma.sql`t."state" = 'PROCESSING' AND t."nextCheckAt" <= ${now}`,
        orderBy: Prisma.sql`t."nextCheckAt"`,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + checkLeaseMs()),
      })
      return claimed.length === 0 ? [] : db.payment.findMany({ where: { id: { in: claimed.map((row) => row.id) } } })
    },
    async run(payment) {
      await checkSettlement(payment) // records its own failures and the next check time
    },
  }
}

export async function settlementCheckBacklog(now = new Date()): Promise<Backlog> {
  const due = await db.payment.aggregate({ where: { state: 'PROCESSING', nextCheckAt: { lte: now } }, _count: { _all: true }, _min: { nextCheckAt: true } })
  return { due: due._count._all, oldestDueAt: due._min.nextCheckAt }
}
