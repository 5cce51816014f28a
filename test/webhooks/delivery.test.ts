// Webhook delivery (the deliver-webhooks job, driven step by step) on a test clock: retries over
// about three days, Retry-After, dead-letter, the per-payment order, leases between two
// dispatchers, and a dispatcher that dies holding a lease.
import { ulid } from 'ulid'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { enqueueWebhookEvent } from '../../src/webhooks/outbox.js'
import { computeNextAttemptAt, parseRetryAfter } from '../../src/webhooks/delivery.js'
import { deliverWebhooksJob } from '../../src/workers/deliver-webhooks.js'
import { startWorker, type Worker } from '../../src/workers/worker.js'
import { startTestService, type TestService, waitFor } from '../harness.js'
import {
  changePaymentState,
  createTestClock,
  createTestPayment,
  expectSignedWith,
  newWebhookSecret,
  startReceiver, type Receiver,
} from './webhook-harness.js'

const secrets = [newWebhookSecret()]
const DAY = 86_400_000
let service: TestService
let receiver: Receiver
const dispatchers: Worker[] = []

beforeAll(async () => {
  receiver = await startReceiver()
  service = await startTestService({
    DJANGO_BASE_URL: receiver.url,
    WEBHOOK_SECRET: secrets.join(','),
    WEBHOOK_TIMEOUT_MS: '3000',
    // The service's own dispatcher sleeps through these tests; no test here wakes it.
    WEBHOOK_POLL_INTERVAL_MS: String(DAY),
  })
})
afterAll(async () => {
  await service.close()
  await receiver.close()
})
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()))
  receiver.received.length = 0
  receiver.respond = () => ({ status: 200 })
  await service.db.webhookEvent.updateMany({ where: { status: 'PENDING' }, data: { status: 'DEAD' } })
})

function startTestDispatcher(clock = createTestClock(), owner = 'test') {
  // The service's own database and configuration, on the test's clock.
  const deps = { ...service.deps, clock }
  const dispatcher = startWorker(deps, deliverWebhooksJob(deps, { owner }), { poll: false })
  dispatchers.push(dispatcher)
  return dispatcher
}

const eventRow = (id: string) => service.db.webhookEvent.findUniqueOrThrow({ where: { id } })

describe('retries', () => {
  it('keeps an event while the receiver is down and delivers it once it is back, honouring Retry-After', async () => {
    const clock = createTestClock()
    const dispatcher = startTestDispatcher(clock)
    const payment = await createTestPayment(service)
    const event = await changePaymentState(service, payment, 'COMPLETED')

    receiver.respond = () => 'drop' // down: the connection is cut
    expect(await dispatcher.runOnce()).toBe(1)
    let row = await eventRow(event.id)
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: null, leaseUntil: null })
    expect(row.lastError).toMatch(/^connection failed/)
    const firstDelay = row.nextAttemptAt.getTime() - clock.now().getTime()
    expect(firstDelay).toBeGreaterThan(4_500) // the schedule's first step, plus up to 20 % jitter
    expect(firstDelay).toBeLessThanOrEqual(6_000)

    expect(await dispatcher.runOnce()).toBe(0) // not due yet
    clock.set(row.nextAttemptAt)
    receiver.respond = () => ({ status: 503, headers: { 'retry-after': '3600' }, body: 'maintenance' })
    expect(await dispatcher.runOnce()).toBe(1)
    row = await eventRow(event.id)
    expect(row).toMatchObject({ status: 'PENDING', attempts: 2, lastStatusCode: 503, lastError: 'HTTP 503: maintenance' })
    const retryAfterDelay = row.nextAttemptAt.getTime() - clock.now().getTime()
    expect(retryAfterDelay).toBeGreaterThan(3_590_000) // Retry-After beat the schedule's 5 min step
    expect(retryAfterDelay).toBeLessThanOrEqual(3_600_000)

    clock.advance(retryAfterDelay - 5_000)
    expect(await dispatcher.runOnce()).toBe(0)
    clock.advance(5_000)
    receiver.respond = () => ({ status: 204 })
    expect(await dispatcher.runOnce()).toBe(1)
    row = await eventRow(event.id)
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 204, lastError: null })
    expect(receiver.received).toHaveLength(3)
    for (const delivery of receiver.received) expectSignedWith(delivery, secrets) // fresh timestamps on each attempt
    expect(new Set(receiver.received.map((d) => d.json.id))).toEqual(new Set([event.id]))
  })

  it('reads an HTTP-date Retry-After on the real clock, and schedules that delay on the service clock', async () => {
    const clock = createTestClock()
    clock.advance(7 * DAY) // the service acts a week ahead of the real time
    const dispatcher = startTestDispatcher(clock)
    const event = await changePaymentState(service, await createTestPayment(service), 'COMPLETED')
    // The receiver's own date: ten minutes from now, on the real clock.
    receiver.respond = () => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 600_000).toUTCString() } })
    expect(await dispatcher.runOnce()).toBe(1)
    const row = await eventRow(event.id)
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: 503 })
    const delay = row.nextAttemptAt.getTime() - clock.now().getTime()
    expect(delay).toBeGreaterThan(580_000) // not the schedule's 5 s first step
    expect(delay).toBeLessThanOrEqual(600_000)
  })

  it('retries 5xx and timeouts for about three days, then dead-letters the event', async () => {
    const clock = createTestClock()
    const start = Date.now()
    const dispatcher = startTestDispatcher(clock)
    const event = await changePaymentState(service, await createTestPayment(service), 'FAILED')
    receiver.respond = () => ({ status: 500 })
    let row = await eventRow(event.id)
    while (row.status === 'PENDING') {
      clock.set(row.nextAttemptAt)
      expect(await dispatcher.runOnce()).toBe(1)
      row = await eventRow(event.id)
    }
    expect(row).toMatchObject({ status: 'DEAD', attempts: 10, lastStatusCode: 500 })
    expect(row.lastError).toBe('HTTP 500 (gave up after 10 attempts)')
    const days = (clock.now().getTime() - start) / DAY // the schedule sums to 71.6 h, plus up to 20 % jitter
    expect(days).toBeGreaterThan(2.9)
    expect(days).toBeLessThan(3.6)
  })

  it('computes the backoff with jitter, and caps Retry-After at a day', () => {
    const now = new Date('2026-11-29T12:00:00Z')
    const at = (...args: Parameters<typeof computeNextAttemptAt>) => computeNextAttemptAt(...args)!.getTime() - now.getTime()
    expect(at(1, [5000, 60000], now, undefined, () => 0)).toBe(5000)
    expect(at(1, [5000, 60000], now, undefined, () => 1)).toBe(6000)
    expect(at(2, [5000, 60000], now, 1000, () => 0)).toBe(60000)
    expect(at(2, [5000, 60000], now, 30 * DAY, () => 0)).toBe(DAY)
    expect(computeNextAttemptAt(3, [5000, 60000], now)).toBeNull()
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('Sun, 29 Nov 2026 12:10:00 GMT', now)).toBe(600_000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})

describe('dead-letter', () => {
  it('dead-letters on 410 and other 4xx at once, and a dead event no longer holds back the next one', async () => {
    const clock = createTestClock()
    const dispatcher = startTestDispatcher(clock)
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    const second = await changePaymentState(service, payment, 'COMPLETED')
    const other = await changePaymentState(service, await createTestPayment(service), 'COMPLETED')
    receiver.respond = (d) => (d.json.id === first.id ? { status: 410, body: 'gone' } : d.json.id === other.id ? { status: 400 } : { status: 200 })

    expect(await dispatcher.runOnce()).toBe(2)
    expect(await eventRow(first.id)).toMatchObject({ status: 'DEAD', attempts: 1, lastStatusCode: 410, lastError: 'HTTP 410: gone' })
    expect(await eventRow(other.id)).toMatchObject({ status: 'DEAD', attempts: 1, lastStatusCode: 400 })
    expect(await dispatcher.runOnce()).toBe(1)
    expect(await eventRow(second.id)).toMatchObject({ status: 'DELIVERED' })
  })

  it('retries 429 (too many requests) rather than giving up', async () => {
    const dispatcher = startTestDispatcher()
    const event = await changePaymentState(service, await createTestPayment(service), 'COMPLETED')
    receiver.respond = () => ({ status: 429 })
    await dispatcher.runOnce()
    expect(await eventRow(event.id)).toMatchObject({ status: 'PENDING', lastStatusCode: 429 })
  })
})

describe('ordering', () => {
  it('delivers a payment\'s events in the order written; a later one waits for an earlier one; other payments do not wait', async () => {
    const clock = createTestClock()
    const dispatcher = startTestDispatcher(clock)
    const slow = await createTestPayment(service)
    const e1 = await changePaymentState(service, slow, 'PROCESSING')
    const e2 = await changePaymentState(service, slow, 'COMPLETED')
    const f1 = await changePaymentState(service, await createTestPayment(service), 'COMPLETED')
    let failFirst = true
    receiver.respond = (d) => {
      if (d.json.id === e1.id && failFirst) {
        failFirst = false
        return { status: 503 }
      }
      return { status: 200 }
    }

    expect(await dispatcher.runOnce()).toBe(2) // e1 (fails) and f1; e2 waits behind e1
    expect(await dispatcher.runOnce()).toBe(0)
    expect((await eventRow(f1.id)).status).toBe('DELIVERED')
    expect((await eventRow(e2.id)).status).toBe('PENDING')

    clock.advance(10 * 60_000)
    expect(await dispatcher.runOnce()).toBe(1) // e1
    expect(await dispatcher.runOnce()).toBe(1) // then e2
    expect(new Set(receiver.received.slice(0, 2).map((d) => d.json.id))).toEqual(new Set([e1.id, f1.id]))
    const slowOrder = receiver.received.filter((d) => d.json.pendingId === slow.id).map((d) => d.json.id)
    expect(slowOrder).toEqual([e1.id, e1.id, e2.id])
  })
})

describe('a payment\'s queue, claimed as its events end', () => {
  interface Hooks {
    /** Runs before / after the write of a delivered event's outcome, while its delivery has not ended. */
    beforeOutcome?: () => Promise<void>
    afterOutcome?: () => Promise<void>
    /** True: the next claim fails (a connection reset, a busy database). */
    failClaim?: () => boolean
    /** WEBHOOK_RETRY_SCHEDULE for this dispatcher (the service's: 5 s first). */
    retryScheduleMs?: number[]
  }
  /**
   * A dispatcher that polls once a day and hears only this test's announcements (the service's
   * own dispatcher hears none of them), counting its claims.
   */
  function startListeningDispatcher(hooks: Hooks = {}) {
    const listeners = new Set<(subject: string | undefined) => void>()
    const claims: (number | 'failed')[] = []
    const { db: serviceDb } = service.deps
    const isOutcome = (sql: string) => sql.includes(`"status" = 'DELIVERED'`)
    const db: typeof serviceDb = {
      ...serviceDb,
      onAnnouncement: (_topic, listener) => (listeners.add(listener), () => listeners.delete(listener)),
      async claimDueRows(claim) {
        if (hooks.failClaim?.()) {
          claims.push('failed')
          throw new Error('connection reset')
        }
        const rows = await serviceDb.claimDueRows(claim)
        claims.push(rows.length)
        return rows as never
      },
      writer: {
        ...serviceDb.writer,
        async run(sql, params, options) {
          if (isOutcome(sql)) await hooks.beforeOutcome?.()
          const rows = await serviceDb.writer.run(sql, params, options)
          if (isOutcome(sql)) await hooks.afterOutcome?.()
          return rows as never
        },
      },
    }
    const { config } = service.deps
    const webhooks = { ...config.webhooks, retryScheduleMs: hooks.retryScheduleMs ?? config.webhooks.retryScheduleMs }
    const deps = { ...service.deps, db, config: { ...config, webhooks } }
    dispatchers.push(startWorker(deps, deliverWebhooksJob(deps)))
    const announce = (subject: string | undefined) => listeners.forEach((listener) => listener(subject))
    return { claims, announce }
  }
  const deliveredIds = () => receiver.received.map((d) => d.json.id)
  const received = (id: string) => receiver.received.find((d) => d.json.id === id)
  /** The receiver answers the payment's `payment.processing` event only once `release()` is called. */
  function holdProcessingEvents() {
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    receiver.respond = (d) => (d.json.type === 'payment.processing' ? { status: 200, until: released } : { status: 200 })
    return release
  }

  it('claims an event announced behind one in flight once that one is delivered, and nothing after an event nothing waits behind', async () => {
    const release = holdProcessingEvents()
    const dispatcher = startListeningDispatcher()
    await waitFor(() => dispatcher.claims.length === 1) // the claim at start: nothing due
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    dispatcher.announce(payment.id)
    await waitFor(() => received(first.id))
    const second = await changePaymentState(service, payment, 'COMPLETED')
    dispatcher.announce(payment.id) // its payment's first event is in flight: no claim now
    await new Promise((resolve) => setTimeout(resolve, 50)) // a claim would have run by now (5 ms gathering)
    release()
    await waitFor(() => received(second.id), 2000)
    expect(deliveredIds()).toEqual([first.id, second.id])
    await waitFor(async () => (await eventRow(second.id)).status === 'DELIVERED')
    await new Promise((resolve) => setTimeout(resolve, 100))
    // At start, at the first announcement, after the first event (it finds the second); none after the second.
    expect(dispatcher.claims).toEqual([0, 1, 1])
  })

  it('claims the next event when the write of the one before it saw it waiting', async () => {
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    const second = await changePaymentState(service, payment, 'COMPLETED')
    const dispatcher = startListeningDispatcher() // its claim at start takes the first; the second waits
    await waitFor(() => received(second.id), 2000)
    expect(deliveredIds()).toEqual([first.id, second.id])
    expect(dispatcher.claims).toEqual([1, 1])
  })

  it('claims the next event written without an announcement while the one before it is in flight (another process on the SQLite file, a lost NOTIFY)', async () => {
    const release = holdProcessingEvents()
    const dispatcher = startListeningDispatcher()
    await waitFor(() => dispatcher.claims.length === 1)
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    dispatcher.announce(payment.id)
    await waitFor(() => received(first.id))
    const second = await changePaymentState(service, payment, 'COMPLETED') // no announcement reaches this dispatcher
    release()
    await waitFor(() => received(second.id), 2000)
    expect(deliveredIds()).toEqual([first.id, second.id])
  })

  it('claims the next event announced after the one before it was written and before its delivery ended', async () => {
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    let second: Awaited<ReturnType<typeof changePaymentState>> | undefined
    // The first event's outcome is written (it saw nothing waiting); then, while its delivery has not
    // ended, the second is written and announced: the announcement claims nothing (the first is in
    // flight), so the worker must claim when the first ends.
    const dispatcher = startListeningDispatcher({
      afterOutcome: async () => {
        if (second) return
        second = await changePaymentState(service, payment, 'COMPLETED')
        dispatcher.announce(payment.id)
      },
    })
    await waitFor(() => second && received(second.id), 2000)
    expect(deliveredIds()).toEqual([first.id, second!.id])
  })

  it('claims the next event after a wake-up without a subject (a reconnected listener) while the one before it is in flight', async () => {
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    let second: Awaited<ReturnType<typeof changePaymentState>> | undefined
    let woken = false
    // On PostgreSQL: the reconnected listener's wake-up claims before the first event's outcome is
    // written (that claim finds the first still leased), and the second event, whose NOTIFY was
    // lost, commits after that write saw nothing waiting. The wake-up must have marked the first.
    const dispatcher = startListeningDispatcher({
      beforeOutcome: async () => {
        if (woken) return
        woken = true
        dispatcher.announce(undefined)
        await waitFor(() => dispatcher.claims.length === 2) // the wake-up's claim ran and found nothing
      },
      afterOutcome: async () => {
        if (second) return
        second = await changePaymentState(service, payment, 'COMPLETED')
      },
    })
    await waitFor(() => second && received(second.id), 2000)
    expect(deliveredIds()).toEqual([first.id, second!.id])
    expect(dispatcher.claims).toEqual([1, 0, 1])
  })

  it('claims again when the next event ends after a claim failed (a connection reset)', async () => {
    const release = holdProcessingEvents()
    let failNext = false
    const dispatcher = startListeningDispatcher({ failClaim: () => (failNext ? ((failNext = false), true) : false) })
    await waitFor(() => dispatcher.claims.length === 1)
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    dispatcher.announce(payment.id)
    await waitFor(() => received(first.id))
    const other = await changePaymentState(service, await createTestPayment(service), 'COMPLETED')
    failNext = true
    dispatcher.announce(other.paymentId!) // claims (nothing of its payment in flight): that claim fails
    await waitFor(() => dispatcher.claims.includes('failed'))
    release()
    await waitFor(() => received(other.id), 2000)
  })

  it('looks again when a retried event comes due, not at the next poll', async () => {
    let failFirst = true
    receiver.respond = () => (failFirst ? ((failFirst = false), { status: 503 }) : { status: 200 })
    const event = await changePaymentState(service, await createTestPayment(service), 'COMPLETED')
    startListeningDispatcher({ retryScheduleMs: [500] }) // its claim at start sends it; the 503 schedules a retry about 0.5 s later
    await waitFor(async () => (await eventRow(event.id)).attempts === 1)
    const retryAt = (await eventRow(event.id)).nextAttemptAt.getTime()
    await waitFor(async () => (await eventRow(event.id)).status === 'DELIVERED', retryAt - Date.now() + 1500)
    expect(receiver.received.filter((d) => d.json.id === event.id)).toHaveLength(2)
  })
})

describe('order from the database, not from the ids', () => {
  it('delivers in the order written even when a later event\'s id sorts first (minted by a replica whose clock is behind)', async () => {
    const dispatcher = startTestDispatcher()
    const payment = await createTestPayment(service)
    const first = await changePaymentState(service, payment, 'PROCESSING')
    const second = await changePaymentState(service, payment, 'COMPLETED')
    // What a replica one minute behind would have minted for the second event: a ULID that sorts first.
    const skewedId = ulid(first.createdAt.getTime() - 60_000)
    await service.db.webhookEvent.update({ where: { id: second.id }, data: { id: skewedId } })

    while ((await dispatcher.runOnce()) > 0);
    expect(receiver.received.filter((d) => d.json.pendingId === payment.id).map((d) => d.json.type)).toEqual(['payment.processing', 'payment.completed'])
  })
})

describe('several dispatchers on one database', () => {
  it('never delivers an event twice, and keeps each payment in order', async () => {
    const payments = await Promise.all(Array.from({ length: 15 }, () => createTestPayment(service)))
    const events = []
    for (const state of ['PROCESSING', 'COMPLETED'] as const) {
      for (const payment of payments) events.push(await changePaymentState(service, payment, state))
    }
    receiver.respond = () => ({ status: 200, delayMs: 5 + Math.floor(Math.random() * 20) })
    const a = startTestDispatcher(createTestClock(), 'a')
    const b = startTestDispatcher(createTestClock(), 'b')
    for (let round = 0; round < 20; round++) {
      const [x, y] = await Promise.all([a.runOnce(), b.runOnce()])
      if (x + y === 0) break
    }
    const ids = receiver.received.map((d) => d.json.id)
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort())
    expect(await service.db.webhookEvent.count({ where: { id: { in: ids }, status: 'DELIVERED', attempts: 1 } })).toBe(events.length)
    for (const payment of payments) {
      expect(receiver.received.filter((d) => d.json.pendingId === payment.id).map((d) => d.json.type)).toEqual(['payment.processing', 'payment.completed'])
    }
  })

  it('delivers an event after the lease of a dispatcher that died holding it expires, and the dead one cannot overwrite the result', async () => {
    const clock = createTestClock()
    const crashed = startTestDispatcher(clock, 'crashed')
    const survivor = startTestDispatcher(clock, 'survivor')
    const event = await changePaymentState(service, await createTestPayment(service), 'COMPLETED')
    receiver.respond = () => 'hang' // the first dispatcher claims and sends, then "dies" mid-request
    const crashedRun = crashed.runOnce()
    await waitFor(() => receiver.received.length === 1)
    const claimed = await eventRow(event.id)
    const leaseMs = claimed.leaseUntil!.getTime() - clock.now().getTime()
    expect(leaseMs).toBeGreaterThan(8_900) // 3 x WEBHOOK_TIMEOUT_MS (3 s here)
    expect(leaseMs).toBeLessThanOrEqual(9_000)

    receiver.respond = () => ({ status: 200 })
    expect(await survivor.runOnce()).toBe(0) // leased
    clock.advance(leaseMs + 1)
    expect(await survivor.runOnce()).toBe(1)
    expect(await eventRow(event.id)).toMatchObject({ status: 'DELIVERED', attempts: 1, leaseUntil: null })

    receiver.releaseHanging() // the dead dispatcher's request finally fails
    expect(await crashedRun).toBe(1)
    expect(await eventRow(event.id)).toMatchObject({ status: 'DELIVERED', lastStatusCode: 200, lastError: null })
    await waitFor(() => service.logs.some((line) => line.includes('lease expired before the outcome was recorded')))
    expect(receiver.received).toHaveLength(2)
  })
})

describe('events without a payment', () => {
  it('are written, signed and delivered in order like payment events, and never wait for a payment queue', async () => {
    const dispatcher = startTestDispatcher()
    const payment = await createTestPayment(service)
    const stuck = await changePaymentState(service, payment, 'PROCESSING')
    const write = (n: number) =>
      service.db.$transaction((tx) => enqueueWebhookEvent(service.deps, tx, 'test.announcement', (id, at) => ({ id, type: 'test.announcement', n, timestamp: at.toISOString() })))
    const first = await write(1)
    const second = await write(2)
    expect(first.paymentId).toBeNull()

    receiver.respond = (delivery) => (delivery.json.pendingId ? { status: 503 } : { status: 200 })
    await dispatcher.runOnce()
    await dispatcher.runOnce()
    const announcements = receiver.received.filter((d) => d.json.type === 'test.announcement')
    expect(announcements.map((d) => d.json.n)).toEqual([1, 2])
    expectSignedWith(announcements[0], secrets)
    expect((await eventRow(second.id)).status).toBe('DELIVERED')
    expect((await eventRow(stuck.id)).status).toBe('PENDING')
  })
})
