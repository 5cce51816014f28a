// Delivers the outbox to the marketplace: claims due events with a lease, posts them signed, and
// records the outcome (DELIVERED, a retry time, or DEAD). Several processes may run a dispatcher on
// one database: a claim is a conditional update on leaseUntil, and every later write is fenced by
// the lease it claimed, so a dispatcher whose lease expired cannot overwrite the next one's result.
//
// Ordering, per payment: events are delivered in the order they were written (their `sequence`,
// assigned by the database in the writing transaction, not their ULIDs' clock order). An
// event waits while an earlier event of the same payment is PENDING (retrying or in flight); an
// event that went DEAD no longer blocks the ones after it. Different payments never wait for each
// other. Delivery is at least once: a receiver must deduplicate on webhook-id.
import { config } from '../config.js'
import { db, type Prisma, type WebhookEvent } from '../db.js'
import { logger } from '../logger.js'
import { listenForWebhookWakeups } from './outbox.js'
import { createWebhookSigner, type WebhookSigner } from './signing.js'

export interface WebhookDispatcher {
  /** Stops polling and waits for the deliveries in flight. */
  stop(): Promise<void>
  /** Claims and delivers the events due now; resolves to how many were attempted. */
  runOnce(): Promise<number>
}

export interface WebhookDispatcherOptions {
  /** The clock for due times and leases (tests drive it). Signatures always carry the real time. */
  now?: () => Date
  /** A name for this dispatcher in the logs. */
  owner?: string
  /** false: no polling and no wake-ups, only runOnce() delivers (tests drive it step by step). Default true. */
  poll?: boolean
}

export type DeliveryOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode?: number; error: string; retryAfterMs?: number }
  | { kind: 'dead'; statusCode: number; error: string }

const BATCH_SIZE = 32
const HEADS_PER_QUERY = 500
/** Up to this fraction is added to each scheduled delay, so receivers recovering from an outage are not hit by every retry at once. */
const JITTER = 0.2
/** A Retry-After longer than this is treated as this long: a day's silence is already a long outage. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000
const ERROR_SNIPPET_CHARS = 200
// A transaction may wait for a connection (or the SQLite adapter's mutex) for a moment; wait rather than fail the round.
const TX_OPTIONS = { maxWait: 10_000, timeout: 10_000 }

/** Seconds or an HTTP date, as milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime())
}

/** 2xx delivered; 408, 429 and 5xx retry (they say "later"); every other 4xx is permanent. */
export function classifyResponse(statusCode: number, retryAfter: string | null, body: string, now: Date): DeliveryOutcome {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode }
  const error = `HTTP ${statusCode}${body ? `: ${body.slice(0, ERROR_SNIPPET_CHARS)}` : ''}`
  if (statusCode >= 400 && statusCode < 500 && statusCode !== 408 && statusCode !== 429) return { kind: 'dead', statusCode, error }
  return { kind: 'retry', statusCode, error, retryAfterMs: parseRetryAfter(retryAfter, now) }
}

/**
 * When to try again after `attempts` failed attempts: the schedule's step with jitter, or the
 * receiver's Retry-After when that is later. Null once the schedule is used up.
 */
export function computeNextAttemptAt(
  attempts: number,
  scheduleMs: readonly number[],
  now: Date,
  retryAfterMs?: number,
  random: () => number = Math.random,
): Date | null {
  const step = scheduleMs[attempts - 1]
  if (step === undefined) return null
  const delay = Math.max(step * (1 + JITTER * random()), Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS))
  return new Date(now.getTime() + delay)
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs} ms`
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
  return `connection failed: ${detail}`
}

/** Posts one event; never throws. */
export async function deliverWebhookEvent(
  event: Pick<WebhookEvent, 'id' | 'payload'>,
  sign: WebhookSigner,
  url: string,
  timeoutMs: number,
  now: Date,
): Promise<DeliveryOutcome> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'payments-service-webhooks/1', ...sign(event.id, new Date(), event.payload) },
      body: event.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    const body = (await res.text()).trim()
    return classifyResponse(res.status, res.headers.get('retry-after'), body, now)
  } catch (error) {
    return { kind: 'retry', error: describeFetchError(error, timeoutMs) }
  }
}

function recordOf(outcome: DeliveryOutcome, attempts: number, now: Date): Prisma.WebhookEventUpdateManyMutationInput {
  const common = { attempts: { increment: 1 }, leaseUntil: null, lastStatusCode: outcome.statusCode ?? null }
  if (outcome.kind === 'delivered') return { ...common, status: 'DELIVERED', deliveredAt: now, lastError: null }
  if (outcome.kind === 'dead') return { ...common, status: 'DEAD', lastError: outcome.error }
  const nextAttemptAt = computeNextAttemptAt(attempts, config.webhooks.retryScheduleMs, now, outcome.retryAfterMs)
  if (!nextAttemptAt) return { ...common, status: 'DEAD', lastError: `${outcome.error} (gave up after ${attempts} attempts)` }
  return { ...common, lastError: outcome.error, nextAttemptAt }
}

export function startWebhookDispatcher(opts: WebhookDispatcherOptions = {}): WebhookDispatcher {
  const now = opts.now ?? (() => new Date())
  const log = logger.child({ component: 'webhooks', ...(opts.owner ? { owner: opts.owner } : {}) })
  const { url, secrets, timeoutMs, pollIntervalMs } = config.webhooks
  const leaseMs = Math.max(60_000, 3 * timeoutMs)
  const sign = createWebhookSigner(secrets)
  if (secrets.length === 0) {
    log.warn('WEBHOOK_SECRET IS NOT SET: webhooks go out UNSIGNED and the marketplace cannot tell them from forgeries. Set WEBHOOK_SECRET (whsec_...).')
  }

  // Each database step is one transaction: finding the due heads reads one consistent snapshot, and
  // a round's claims commit together. (That no step sees another transaction's uncommitted outbox
  // row is the database seam's job: src/db/sqlite.ts keeps plain queries out of open transactions on
  // SQLite's one connection; PostgreSQL's own isolation does it there.)
  async function findDueEvents(at: Date): Promise<WebhookEvent[]> {
    return db.$transaction(async (tx) => {
      // The head of each payment's queue (its lowest sequence still PENDING): only it may be sent.
      // Events without a payment form one queue of their own, in id order (their sequence is 0).
      const heads = await tx.webhookEvent.groupBy({ by: ['paymentId'], where: { status: 'PENDING' }, _min: { sequence: true, id: true } })
      const due: WebhookEvent[] = []
      // In chunks: databases cap the number of bound parameters in one query.
      for (let i = 0; i < heads.length && due.length < BATCH_SIZE; i += HEADS_PER_QUERY) {
        const chunk = heads
          .slice(i, i + HEADS_PER_QUERY)
          .map((head) => (head.paymentId === null ? { paymentId: null, id: head._min.id ?? '' } : { paymentId: head.paymentId, sequence: head._min.sequence ?? 0 }))
        due.push(
          ...(await tx.webhookEvent.findMany({
            where: { OR: chunk, nextAttemptAt: { lte: at }, AND: { OR: [{ leaseUntil: null }, { leaseUntil: { lt: at } }] } },
            orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
            take: BATCH_SIZE - due.length,
          })),
        )
      }
      return due
    }, TX_OPTIONS)
  }

  async function claimEvents(events: WebhookEvent[], at: Date, leaseUntil: Date): Promise<WebhookEvent[]> {
    return db.$transaction(async (tx) => {
      const claimed: WebhookEvent[] = []
      for (const event of events) {
        // Still due and unchanged since it was read: another dispatcher may have tried it meanwhile
        // and scheduled a retry (its attempts and nextAttemptAt moved on).
        const { count } = await tx.webhookEvent.updateMany({
          where: {
            id: event.id,
            status: 'PENDING',
            attempts: event.attempts,
            nextAttemptAt: { lte: at },
            OR: [{ leaseUntil: null }, { leaseUntil: { lt: at } }],
          },
          data: { leaseUntil },
        })
        if (count === 1) claimed.push(event)
      }
      return claimed
    }, TX_OPTIONS)
  }

  // The outcomes of a round are recorded in one transaction (one commit instead of one per event).
  async function recordOutcomes(results: { event: WebhookEvent; data: Prisma.WebhookEventUpdateManyMutationInput }[], leaseUntil: Date) {
    const counts = await db.$transaction(async (tx) => {
      const applied: number[] = []
      for (const { event, data } of results) {
        applied.push((await tx.webhookEvent.updateMany({ where: { id: event.id, leaseUntil }, data })).count)
      }
      return applied
    }, TX_OPTIONS)
    results.forEach(({ event, data }, i) => {
      const fields = { eventId: event.id, type: event.type, paymentId: event.paymentId, attempts: event.attempts + 1, statusCode: data.lastStatusCode }
      if (counts[i] === 0) log.warn(fields, 'webhook lease expired before the outcome was recorded; another dispatcher owns the event now')
      else if (data.status === 'DELIVERED') log.info(fields, 'webhook delivered')
      else if (data.status === 'DEAD') log.error({ ...fields, error: data.lastError }, 'webhook dead-lettered')
      else log.warn({ ...fields, error: data.lastError, nextAttemptAt: data.nextAttemptAt }, 'webhook delivery failed; will retry')
    })
  }

  async function runOnce(): Promise<number> {
    const at = now()
    const due = await findDueEvents(at)
    if (due.length === 0) return 0
    const leaseUntil = new Date(at.getTime() + leaseMs)
    const claimed = await claimEvents(due, at, leaseUntil)
    const results = await Promise.all(
      claimed.map(async (event) => {
        const outcome = await deliverWebhookEvent(event, sign, url, timeoutMs, now())
        return { event, data: recordOf(outcome, event.attempts + 1, now()) }
      }),
    )
    await recordOutcomes(results, leaseUntil)
    return claimed.length
  }

  const runs = new Set<Promise<unknown>>()
  function track<T>(run: Promise<T>): Promise<T> {
    runs.add(run)
    void run.finally(() => runs.delete(run)).catch(() => {})
    return run
  }

  let stopped = false
  let looping = false
  let wokenWhileLooping = false
  let timer: NodeJS.Timeout | undefined

  let runSoon = false

  function scheduleLoop(delayMs: number) {
    clearTimeout(timer)
    runSoon = delayMs === 0
    if (!stopped) timer = setTimeout(() => void loop(), delayMs)
  }

  // A wake-up during a round makes the loop go round again; otherwise it starts a round now. It
  // never postpones a round already due: commits every millisecond must not starve delivery.
  function wake() {
    if (looping) wokenWhileLooping = true
    else if (!runSoon) scheduleLoop(0)
  }

  // Runs rounds back to back while they find work (the next event of a payment becomes due as soon
  // as the one before it is delivered), then sleeps until the next poll or wake-up.
  async function loop() {
    if (looping) {
      wokenWhileLooping = true
      return
    }
    looping = true
    runSoon = false
    try {
      let attempted: number
      do {
        wokenWhileLooping = false
        attempted = await track(runOnce())
      } while (!stopped && (attempted > 0 || wokenWhileLooping))
    } catch (error) {
      log.error({ err: error }, 'webhook dispatch round failed; retrying at the next poll')
    } finally {
      looping = false
      scheduleLoop(pollIntervalMs)
    }
  }

  let stopListening = () => {}
  if (opts.poll !== false) {
    stopListening = listenForWebhookWakeups(wake)
    scheduleLoop(0) // events left over from before a restart go out now, not after the first poll
  }

  return {
    runOnce: () => track(runOnce()),
    async stop() {
      stopped = true
      clearTimeout(timer)
      stopListening()
      while (runs.size > 0) await Promise.allSettled([...runs])
    },
  }
}
