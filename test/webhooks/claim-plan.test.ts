// The delivery worker's claim (src/workers/deliver-webhooks.ts) stays cheap however long the
// backlog: the database walks the due events in the order of an index and stops once it has
// enough, instead of reading and sorting every due event and looking up each one's queue (a burst
// of 1000 cost ~5 ms per claim on PostgreSQL). Asked of each provider's planner, on a backlog of
// 600 due events; on PostgreSQL before and after it gathered its statistics, for the plan made
// for the claim's values and for the generic plan it may cache for the prepared statement.
import Database from 'better-sqlite3'
import pg from 'pg'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DueClaim } from '../../src/db/claims.js'
import { dueClaimStatement } from '../../src/db/claims.js'
import { postgresTimestamp } from '../../src/db/postgres.js'
import { deliverWebhooksJob } from '../../src/workers/deliver-webhooks.js'
import { testProvider } from '../database.js'
import { startTestService, type TestService } from '../harness.js'
import { createTestPayment, testPaymentData } from './webhook-harness.js'

const DUE_EVENTS = 600
/** Payments whose first event is retrying later while their second is due: a claim must pass those over. */
const BLOCKED = 5
let service: TestService

beforeAll(async () => {
  service = await startTestService({ WEBHOOK_POLL_INTERVAL_MS: String(86_400_000) })
  await createTestPayment(service) // its seller
  const now = Date.now()
  const payments = Array.from({ length: DUE_EVENTS }, () => testPaymentData())
  await service.db.payment.createMany({ data: payments })
  const event = (paymentId: string, sequence: number, dueAt: number) => ({
    id: ulid(),
    paymentId,
    type: 'payment.completed',
    payload: '{}',
    sequence,
    nextAttemptAt: new Date(dueAt),
    createdAt: new Date(dueAt),
  })
  await service.db.webhookEvent.createMany({
    data: payments.flatMap((payment, i) =>
      i < BLOCKED
        ? // Sequence 1 retries in an hour; sequence 2 is the longest due, and waits behind it.
          [event(payment.id, 1, now + 3_600_000), event(payment.id, 2, now - 120_000)]
        : [event(payment.id, 1, now - 60_000 + i)],
    ),
  })
})
afterAll(() => service?.close())

/** The claim the service's worker would run now, as the statement its Database sends. */
async function claimStatement(): Promise<{ sql: string; values: unknown[] }> {
  let claim: DueClaim | undefined
  const db = {
    ...service.deps.db,
    async claimDueRows(asked: DueClaim) {
      claim = asked
      return []
    },
  }
  await deliverWebhooksJob({ ...service.deps, db }).claim(16)
  const statement = dueClaimStatement(testProvider, claim!)
  return { sql: testProvider === 'postgresql' ? statement.text : statement.sql, values: statement.values }
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  Alias?: string
  'Actual Rows'?: number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)]

describe.runIf(testProvider === 'postgresql')('the claim on PostgreSQL', () => {
  /**
   * The claim's plan, as run: planned for its values, or (`generic`) the plan PostgreSQL may cache
   * for the service's prepared statement after a few runs, planned for no values in particular.
   */
  async function explainClaim(plan: 'custom' | 'generic'): Promise<PlanNode[]> {
    const { sql, values } = await claimStatement()
    const client = new pg.Client({ connectionString: service.databaseUrl })
    await client.connect()
    try {
      await client.query('BEGIN')
      const bound = values.map((value) => (value instanceof Date ? postgresTimestamp(value) : value)) // as the service binds it
      let explained
      if (plan === 'custom') explained = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, bound)
      else {
        await client.query(`PREPARE claim AS ${sql}`)
        await client.query('SET LOCAL plan_cache_mode = force_generic_plan')
        explained = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE claim(${bound.map((value) => pg.escapeLiteral(String(value))).join(', ')})`)
      }
      return nodesOf(explained.rows[0]['QUERY PLAN'][0].Plan)
    } finally {
      await client.query('ROLLBACK')
      await client.end()
    }
  }

  it('reads no more due events than it claims, with or without statistics, planned for its values or generic', async () => {
    for (const [statistics, plan] of [['none gathered yet', 'custom'], ['none gathered yet', 'generic'], ['gathered', 'custom'], ['gathered', 'generic']] as const) {
      if (statistics === 'gathered') await service.db.$executeRawUnsafe('ANALYZE "WebhookEvent"')
      const nodes = await explainClaim(plan)
      const label = `statistics ${statistics}, ${plan} plan`
      expect(nodes.map((node) => node['Node Type']), label).not.toContain('Sort')
      const walk = nodes.find((node) => node.Alias === 't')!
      expect(walk['Node Type'], label).toMatch(/Index/)
      expect(walk['Actual Rows'], label).toBe(16)
      expect(walk['Rows Removed by Filter'] ?? 0, label).toBeLessThanOrEqual(BLOCKED)
      // Each candidate's queue is one index lookup, never a scan of the PENDING events.
      const queueLookups = nodes.filter((node) => node.Alias === 'earlier')
      for (const lookup of queueLookups) expect(lookup['Rows Removed by Filter'] ?? 0, label).toBe(0)
    }
  })
})

describe.runIf(testProvider === 'sqlite')('the claim on SQLite', () => {
  it('walks the due events in index order: no sort, no scan', async () => {
    const { sql, values } = await claimStatement()
    const sqlite = new Database(service.databaseUrl.slice('file:'.length), { readonly: true })
    try {
      const bound = values.map((value) => (value instanceof Date ? value.getTime() : value))
      const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...bound) as { detail: string }[]).map((row) => row.detail)
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE|SCAN/)
      expect(plan).toContain('SEARCH t USING INDEX WebhookEvent_status_nextAttemptAt_id_idx (status=? AND nextAttemptAt<?)')
    } finally {
      sqlite.close()
    }
  })
})
