// Delivering one outbox event to the marketplace and recording what happened: POST it signed over
// kept-alive connections, classify the answer (DELIVERED, a retry time, or DEAD), and write the
// outcomes of many deliveries in one transaction. The job that claims due events and calls these is
// src/workers/deliver-webhooks.ts (ordering and leases are described there; it owns the
// connections). Every write is fenced by the lease the event was claimed with, so a process whose
// lease expired cannot overwrite the result of the one that claimed the event after it.
import type { Logger } from 'pino'
import type { Pool } from 'undici'
import type { RunStatement, WebhookEvent } from '../db.js'
import type { Deps } from '../deps.js'
import type { WebhookSigner } from './signing.js'

export type DeliveryOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode?: number; error: string; retryAfterMs?: number }
  | { kind: 'dead'; statusCode: number; error: string }

/** Up to this fraction is added to each scheduled delay, so receivers recovering from an outage are not hit by every retry at once. */
const JITTER = 0.2
/** A Retry-After longer than this is treated as this long: a day's silence is already a long outage. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000
const ERROR_SNIPPET_CHARS = 200

/**
 * Seconds or an HTTP date, as milliseconds from `now`; undefined when absent or unreadable. An
 * HTTP date is the receiver's wall-clock time: `now` is the real clock's (classifyResponse), never
 * the service's clock, and the delay is then added to the service's now (computeNextAttemptAt).
 */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime())
}

/** 2xx delivered; 408, 429 and 5xx retry (they say "later"); every other 4xx is permanent. */
export function classifyResponse(statusCode: number, retryAfter: string | null, body: string): DeliveryOutcome {
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode }
  const error = `HTTP ${statusCode}${body ? `: ${body.slice(0, ERROR_SNIPPET_CHARS)}` : ''}`
  if (statusCode >= 400 && statusCode < 500 && statusCode !== 408 && statusCode !== 429) return { kind: 'dead', statusCode, error }
  return { kind: 'retry', statusCode, error, retryAfterMs: parseRetryAfter(retryAfter, new Date()) }
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

function describeFailure(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: string; name?: string } | undefined)?.code
  const name = error instanceof Error ? error.name : undefined
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return `timed out after ${timeoutMs} ms`
  }
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined
  const detail = cause?.code ?? code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
  return `connection failed: ${detail}`
}

/**
 * Connections to the marketplace's webhook URL, kept alive between deliveries (a new TCP
 * connection per event costs more than the event). An idle connection is closed after 1.5 s (or
 * sooner when the receiver's Keep-Alive header asks), before common servers close it themselves
 * (gunicorn after 2 s): a POST sent on a connection the receiver is closing fails and waits for
 * its retry. Redirects are not followed.
 */
export async function openWebhookConnections(url: string, connections: number): Promise<Pool> {
  const { Pool } = await import('undici') // on the first delivery, not at start-up
  return new Pool(new URL(url).origin, { connections, keepAliveTimeout: 1_500, pipelining: 1 })
}

/** Posts one event; never throws. */
export async function deliverWebhookEvent(
  event: Pick<WebhookEvent, 'id' | 'payload'>,
  sign: WebhookSigner,
  connections: Pool,
  url: string,
  timeoutMs: number,
): Promise<DeliveryOutcome> {
  const { pathname, search } = new URL(url)
  try {
    const res = await connections.request({
      method: 'POST',
      path: pathname + search,
      headers: { 'content-type': 'application/json', 'user-agent': 'payments-service-webhooks/1', ...sign(event.id, new Date(), event.payload) },
      body: event.payload,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    })
    const body = (await res.body.text()).trim()
    const retryAfter = res.headers['retry-after']
    return classifyResponse(res.statusCode, (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null, body)
  } catch (error) {
    return { kind: 'retry', error: describeFailure(error, timeoutMs) }
  }
}

/** What to write for a failed attempt (DELIVERED is written by recordDeliveryOutcomes, in groups). */
interface FailedAttemptRecord {
  status: 'PENDING' | 'DEAD'
  lastStatusCode: number | null
  lastError: string
  /** When to try again; null for a dead event (its nextAttemptAt stays as it was). */
  nextAttemptAt: Date | null
}

function retryOrDeadRecord(
  outcome: Exclude<DeliveryOutcome, { kind: 'delivered' }>,
  attempts: number,
  retryScheduleMs: readonly number[],
  now: Date,
): FailedAttemptRecord {
  const lastStatusCode = outcome.statusCode ?? null
  if (outcome.kind === 'dead') return { status: 'DEAD', lastStatusCode, lastError: outcome.error, nextAttemptAt: null }
  const nextAttemptAt = computeNextAttemptAt(attempts, retryScheduleMs, now, outcome.retryAfterMs)
  if (!nextAttemptAt) return { status: 'DEAD', lastStatusCode, lastError: `${outcome.error} (gave up after ${attempts} attempts)`, nextAttemptAt: null }
  return { status: 'PENDING', lastStatusCode, lastError: outcome.error, nextAttemptAt }
}

/** What delivering and recording an event needs of its row. */
export type DeliverableEvent = Pick<WebhookEvent, 'id' | 'paymentId' | 'type' | 'payload' | 'attempts'>

export interface AttemptedDelivery {
  event: DeliverableEvent
  /** The lease the event was claimed with: the outcome is written only while the event still holds it. */
  leaseUntil: Date
  outcome: DeliveryOutcome
}

// Each event is written only while it still holds the lease its delivery was made under (an event
// whose lease ran out belongs to another dispatcher now); RETURNING says which were, and whether
// another event of the event's payment is PENDING (the dispatcher then claims again: it may be the
// payment's next event, which could not be claimed while this one was in flight).
const recordedReturning = `RETURNING "id", EXISTS (SELECT 1 FROM "WebhookEvent" other WHERE other."paymentId" = "WebhookEvent"."paymentId"
      AND other."status" = 'PENDING' AND other."id" <> "WebhookEvent"."id") AS "othersPending"`
const deliveredSql = (count: number) =>
  `UPDATE "WebhookEvent" SET "status" = 'DELIVERED', "deliveredAt" = $1, "attempts" = "attempts" + 1, "leaseUntil" = NULL, "lastStatusCode" = $2, "lastError" = NULL
    WHERE ${Array.from({ length: count }, (_, i) => `("id" = $${2 * i + 3} AND "leaseUntil" = $${2 * i + 4})`).join(' OR ')} ${recordedReturning}`
const failedSql = `UPDATE "WebhookEvent" SET "status" = $1, "attempts" = "attempts" + 1, "leaseUntil" = NULL, "lastStatusCode" = $2, "lastError" = $3,
    "nextAttemptAt" = COALESCE($4, "nextAttemptAt") WHERE "id" = $5 AND "leaseUntil" = $6 ${recordedReturning}`

/**
 * For each event whose outcome was written: whether another event of its payment was PENDING then
 * (when one statement wrote two events of one payment, PostgreSQL answers yes for both, SQLite for
 * the first only: its subquery sees the rows the statement already changed), and when a retried
 * event is due again. An event missing from it lost its lease before its outcome was written.
 */
export type RecordedOutcomes = Map<string, { othersPending: boolean; retryAt: Date | null }>

/**
 * Records the outcomes of many deliveries in one transaction: one UPDATE for all the events
 * delivered with one status code, one per failed attempt (each has its own retry
 * time), on the service's database with its retry schedule (WEBHOOK_RETRY_SCHEDULE); prepared
 * statements on the database's writer (Database.writer: a delivery's outcome is written as often
 * as a payment changes). `now` is the service's clock time. Logs one line per event, and answers
 * which events it wrote (RecordedOutcomes).
 */
export async function recordDeliveryOutcomes(deps: Deps, attempts: AttemptedDelivery[], now: Date, log: Logger): Promise<RecordedOutcomes> {
  const { retryScheduleMs } = deps.config.webhooks
  const delivered = new Map<number, { statusCode: number; events: { event: DeliverableEvent; leaseUntil: Date }[] }>()
  const failed: { event: DeliverableEvent; leaseUntil: Date; data: FailedAttemptRecord }[] = []
  for (const { event, leaseUntil, outcome } of attempts) {
    if (outcome.kind === 'delivered') {
      if (!delivered.has(outcome.statusCode)) delivered.set(outcome.statusCode, { statusCode: outcome.statusCode, events: [] })
      delivered.get(outcome.statusCode)!.events.push({ event, leaseUntil })
    } else {
      failed.push({ event, leaseUntil, data: retryOrDeadRecord(outcome, event.attempts + 1, retryScheduleMs, now) })
    }
  }
  const groups = [...delivered.values()]
  const statements = [
    ...groups.map(({ statusCode, events }) => ({ sql: deliveredSql(events.length), params: [now, statusCode, ...events.flatMap(({ event, leaseUntil }) => [event.id, leaseUntil])] })),
    ...failed.map(({ event, leaseUntil, data }) => ({ sql: failedSql, params: [data.status, data.lastStatusCode, data.lastError, data.nextAttemptAt, event.id, leaseUntil] })),
  ]
  const runAll = async (run: RunStatement) => {
    const rows: { id: string; othersPending: unknown }[] = []
    for (const { sql, params } of statements) rows.push(...(await run<{ id: string; othersPending: unknown }>(sql, params)))
    return rows
  }
  // Marks whose loss in a power cut means a delivery again with the same webhook-id: not worth a wait for the disk (StatementOptions.durable).
  const rows =
    statements.length === 1
      ? await runAll((sql, params) => deps.db.writer.run(sql, params, { durable: false }))
      : await deps.db.writer.transaction(runAll, { durable: false })
  const retryAt = new Map(failed.map(({ event, data }) => [event.id, data.nextAttemptAt]))
  // SQLite answers EXISTS with 1 or 0, PostgreSQL with true or false.
  const recorded: RecordedOutcomes = new Map(rows.map((row) => [row.id, { othersPending: Boolean(row.othersPending), retryAt: retryAt.get(row.id) ?? null }]))
  const fieldsOf = (event: DeliverableEvent, statusCode: number | null | undefined) => ({
    eventId: event.id,
    type: event.type,
    paymentId: event.paymentId,
    attempts: event.attempts + 1,
    statusCode,
  })
  const leaseLost = 'webhook lease expired before the outcome was recorded; another dispatcher owns the event now'
  for (const { statusCode, events } of groups) {
    for (const { event } of events) {
      if (recorded.has(event.id)) log.info(fieldsOf(event, statusCode), 'webhook delivered')
      else log.warn(fieldsOf(event, statusCode), leaseLost)
    }
  }
  for (const { event, data } of failed) {
    const fields = fieldsOf(event, data.lastStatusCode)
    if (!recorded.has(event.id)) log.warn(fields, leaseLost)
    else if (data.status === 'DEAD') log.error({ ...fields, error: data.lastError }, 'webhook dead-lettered')
    else log.warn({ ...fields, error: data.lastError, nextAttemptAt: data.nextAttemptAt }, 'webhook delivery failed; will retry')
  }
  return recorded
}
