// The worker mechanism (src/workers/worker.ts) with the database's claims (Database.claimDueRows): two
// workers on one database never run an item twice, a dead worker's claim is taken over when its
// lease ends, an announcement wakes a sleeping worker, a job's next due time wakes it on time,
// concurrency is bounded, and stop() waits for the work in flight. The items are wallet clean-up rows of this file's own payments; the service's
// own workers sleep (hour-long polls, and nothing here announces payment changes).

import { ulid } from 'ulid'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { Prisma } from '../../src/db.js'
import { startWorker, type Job, type Worker } from '../../src/workers/worker.js'
import { startTestService, type TestService, waitFor } from '../harness.js'
import { createTestClock, createTestPayment } from '../webhooks/webhook-harness.js'

const HOUR = '3600000'
let service: TestService

beforeAll(async () => {
  service = await startTestService({ SETTLEMENT_POLL_INTERVAL_MS: HOUR, WEBHOOK_POLL_INTERVAL_MS: HOUR })
})
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()))
})
afterAll(() => service.close())

/** `count` due items of this test's own. */
async function createItems(count: number): Promise<string[]> {
  const payments = [await createTestPayment(service)] // creates the seller: then no two upserts race for it
  payments.push(...(await Promise.all(Array.from({ length: count - 1 }, () => createTestPayment(service)))))
  const data = payments.map((payment) => ({ id: ulid(), paymentId: payment.id, step: 'CANCEL_GRANT' as const, nextAttemptAt: new Date() }))
  await service.db.walletCleanup.createMany({ data })
  return data.map((row) => row.id)
}

interface TestJobOptions {
  items: string[]
  run: (id: string) => Promise<void>
  clock?: ReturnType<typeof createTestClock>
  concurrency?: number
  leaseMs?: number
}

/** A job over `items`: due while PENDING; running one marks it DONE after `run`. */
function testJob({ items, run, clock = createTestClock(), concurrency = 4, leaseMs = 60_000 }: TestJobOptions): Job<{ id: string }> {
  return {
    name: 'test',
    concurrency,
    pollMs: Number(HOUR),
    wakeOn: ['webhook_events'],
    claim(limit) {
      const now = clock.now()
      return service.deps.db.claimDueRows({
        table: 'WalletCleanup',
        due: Prisma.sql`t."status" = 'PENDING' AND t."nextAttemptAt" <= ${now} AND t."id" IN (${Prisma.join(items)})`,
        orderBy: Prisma.sql`t."id"`,
        limit,
        now,
        leaseUntil: new Date(now.getTime() + leaseMs),
      })
    },
    async run({ id }) {
      await run(id)
      await service.db.walletCleanup.updateMany({ where: { id }, data: { status: 'DONE', leaseUntil: null } })
    },
  }
}

const workers: Worker[] = []
function start(job: Job<{ id: string }>, options?: { poll?: boolean }): Worker {
  const worker = startWorker(service.deps, job, options)
  workers.push(worker)
  return worker
}

describe('claims', () => {
  it('two workers claiming at once never run an item twice, and run every item', async () => {
    const items = await createItems(30)
    const runs: string[] = []
    const run = async (id: string) => {
      runs.push(id)
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 15))
    }
    const a = start(testJob({ items, run }), { poll: false })
    const b = start(testJob({ items, run }), { poll: false })
    for (let round = 0; round < 30; round++) {
      const [x, y] = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()])
      if (x + y === 0) break
    }
    expect([...runs].sort()).toEqual([...items].sort())
  })

  it('a claim is kept until its lease ends, then another worker takes the item over', async () => {
    const [item] = await createItems(1)
    const clock = createTestClock()
    let releaseDead!: () => void
    const dead = start(testJob({ items: [item], clock, leaseMs: 30_000, run: () => new Promise((resolve) => (releaseDead = resolve)) }), { poll: false })
    const survivorRuns: string[] = []
    const survivor = start(testJob({ items: [item], clock, leaseMs: 30_000, run: async (id) => void survivorRuns.push(id) }), { poll: false })

    const deadRun = dead.runOnce() // claims, then hangs: a process that died holding the claim
    await waitFor(() => releaseDead)
    expect(await survivor.runOnce()).toBe(0)
    clock.advance(29_000)
    expect(await survivor.runOnce()).toBe(0)
    clock.advance(1_001)
    expect(await survivor.runOnce()).toBe(1)
    expect(survivorRuns).toEqual([item])
    releaseDead()
    await deadRun
  })
})

describe('running', () => {
  it('sleeps until an announcement wakes it (no poll in between), then claims at once', async () => {
    const items = await createItems(2)
    await service.db.walletCleanup.updateMany({ where: { id: { in: items } }, data: { nextAttemptAt: new Date(Date.now() + 3_600_000) } })
    const runs: string[] = []
    start(testJob({ items, run: async (id) => void runs.push(id) })) // looks once at start: nothing due yet
    await new Promise((resolve) => setTimeout(resolve, 200))
    await service.db.walletCleanup.updateMany({ where: { id: { in: items } }, data: { nextAttemptAt: new Date() } }) // due, unannounced
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(runs).toEqual([])
    service.deps.db.announce('webhook_events')
    await waitFor(() => runs.length === 2, 2000)
    expect([...runs].sort()).toEqual([...items].sort())
  })

  it('wakes when its next item comes due (nextDueAt), not at its hour-long poll, and not before', async () => {
    const items = await createItems(2)
    const dueAt = [new Date(Date.now() + 400), new Date(Date.now() + 900)]
    for (const [i, id] of items.entries()) await service.db.walletCleanup.update({ where: { id }, data: { nextAttemptAt: dueAt[i] } })
    const ranAt = new Map<string, number>()
    const job = testJob({ items, run: async (id) => void ranAt.set(id, Date.now()) })
    start({
      ...job,
      async nextDueAt() {
        const now = new Date()
        const free = { OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] }
        const next = await service.db.walletCleanup.aggregate({ where: { id: { in: items }, status: 'PENDING', ...free }, _min: { nextAttemptAt: true } })
        return next._min.nextAttemptAt
      },
    })
    await waitFor(() => ranAt.size === 2, 3000)
    for (const [i, id] of items.entries()) {
      expect(ranAt.get(id)!).toBeGreaterThanOrEqual(dueAt[i].getTime())
      expect(ranAt.get(id)! - dueAt[i].getTime()).toBeLessThan(300)
    }
  })

  it('with gatherMs, claims at once after a quiet spell, and once per gatherMs while announcements keep coming', async () => {
    const GATHER_MS = 1000
    const items = await createItems(4)
    await service.db.walletCleanup.updateMany({ where: { id: { in: items } }, data: { nextAttemptAt: new Date(Date.now() + 3_600_000) } })
    const claimedAt: number[] = []
    const ranAt = new Map<string, number>()
    const job = testJob({ items, run: async (id) => void ranAt.set(id, performance.now()) })
    start({ ...job, gatherMs: GATHER_MS, claim: (limit) => (claimedAt.push(performance.now()), job.claim(limit)) })
    const becomeDue = (ids: string[]) => service.db.walletCleanup.updateMany({ where: { id: { in: ids } }, data: { nextAttemptAt: new Date() } })

    await new Promise((resolve) => setTimeout(resolve, GATHER_MS + 100)) // quiet since the look at start
    await becomeDue([items[0]])
    const loneAt = performance.now()
    service.deps.db.announce('webhook_events')
    await waitFor(() => ranAt.has(items[0]), 3000)
    const loneClaim = claimedAt.find((at) => at >= loneAt)!
    expect(loneClaim - loneAt).toBeLessThan(GATHER_MS / 2) // not held back
    // The claim that follows an item's end (refill), whenever the machine gets to it.
    await waitFor(() => claimedAt.filter((at) => at >= loneAt).length >= 2, 3000)

    // Three announcements within the window of the last claim: one claim, when the window ends.
    const burstAt = performance.now()
    const lastBefore = Math.max(...claimedAt)
    for (const id of items.slice(1)) {
      await becomeDue([id])
      service.deps.db.announce('webhook_events')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await waitFor(() => ranAt.size === 4, 5000)
    const firstBurstRun = Math.min(...items.slice(1).map((id) => ranAt.get(id)!))
    const burstClaims = claimedAt.filter((at) => at >= burstAt && at < firstBurstRun)
    expect(burstClaims).toHaveLength(1)
    expect(burstClaims[0] - lastBefore).toBeGreaterThanOrEqual(GATHER_MS - 5)
  })

  it('runs at most `concurrency` items at once, and goes on to the rest as slots free', async () => {
    const items = await createItems(10)
    let running = 0
    let most = 0
    const waiting: (() => void)[] = []
    const run = async () => {
      most = Math.max(most, ++running)
      await new Promise<void>((resolve) => waiting.push(resolve))
      running--
    }
    start(testJob({ items, run, concurrency: 3 }))
    await waitFor(() => waiting.length === 3)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(running).toBe(3)
    let released = 0
    while (released < 10) {
      await waitFor(() => waiting.length > 0)
      waiting.shift()!()
      released++
    }
    await waitFor(async () => (await service.db.walletCleanup.count({ where: { id: { in: items }, status: 'DONE' } })) === 10)
    expect(most).toBe(3)
  })

  it('looks again when an item says it comes due again, even while other items are still running', async () => {
    const [retrying, slow] = await createItems(2)
    const ranAt: number[] = []
    let releaseSlow!: () => void
    const job = testJob({ items: [retrying, slow], run: async () => {} })
    let retryAt: Date | undefined
    start({
      ...job,
      // As the settlement job's: due items nobody holds (an item is held while it runs).
      async nextDueAt() {
        const now = new Date()
        const free = { OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] }
        const next = await service.db.walletCleanup.aggregate({ where: { id: { in: [retrying, slow] }, status: 'PENDING', ...free }, _min: { nextAttemptAt: true } })
        return next._min.nextAttemptAt
      },
      async run({ id }) {
        if (id === slow) return new Promise<void>((resolve) => (releaseSlow = resolve)) // still running when the retry comes due
        ranAt.push(Date.now())
        if (ranAt.length > 1) return job.run({ id })
        await new Promise((resolve) => setTimeout(resolve, 100)) // after the look that follows the claim
        retryAt = new Date(Date.now() + 300)
        await service.db.walletCleanup.update({ where: { id }, data: { nextAttemptAt: retryAt, leaseUntil: null } })
        return { dueAgainAt: retryAt }
      },
    })
    onTestFinished(() => releaseSlow?.())
    await waitFor(() => ranAt.length === 2, 3000) // not at the hour-long poll, nor once the slow item ends
    expect(ranAt[1]).toBeGreaterThanOrEqual(retryAt!.getTime())
    expect(ranAt[1] - retryAt!.getTime()).toBeLessThan(300)
    releaseSlow()
  })

  it('stop() waits for the items in flight, and a stopped worker claims nothing more', async () => {
    const [first] = await createItems(1)
    const runs: string[] = []
    let release!: () => void
    const worker = startWorker(
      service.deps,
      testJob({ items: [first], run: (id) => (runs.push(id), new Promise<void>((resolve) => (release = resolve))) }),
    )
    await waitFor(() => runs.length === 1)
    let stopped = false
    const stopping = worker.stop().then(() => (stopped = true))
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(stopped).toBe(false)
    release()
    await stopping
    expect((await service.db.walletCleanup.findUniqueOrThrow({ where: { id: first } })).status).toBe('DONE')

    const [later] = await createItems(1)
    service.deps.db.announce('webhook_events')
    worker.wake()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(runs).toEqual([first])
    expect((await service.db.walletCleanup.findUniqueOrThrow({ where: { id: later } })).status).toBe('PENDING')
  })
})
