// GET /metrics: this service's metrics in the Prometheus text format (prom-client). Each service
// has its own registry (createMetrics, held in deps.metrics: two services in one process do not
// share or clash) and each replica answers for itself; scrape every replica.
//  - per request, one histogram observe: HTTP requests by route pattern (never the raw path, which
//    holds ids) and status; wallet (Open Payments SDK) calls by step and outcome;
//  - at scrape time, a few indexed aggregate queries on the service's database: payments by state,
//    the webhook outbox, and how late each worker's oldest due work is (readWorkerLag in
//    src/workers/index.ts: the same conditions as each job's claim);
//  - Node's default process metrics: collected once per process, on one registry of their own made
//    at the first createMetrics (collectDefaultMetrics installs a GC observer and an event-loop delay
//    monitor that are never stopped: once per service would leak one set per startService), and
//    answered by every service of the process beside its own registry.
// Labels are route patterns, fixed step names, states and job names: never an id or a secret.
import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Config } from './config.js'
import type { PaymentState } from './db.js'
import type { Deps } from './deps.js'
import { readWorkerLag } from './workers/index.js'

export type WalletCallOutcome = 'answered' | 'refused' | 'unavailable'

/** The gauges set from the database at each scrape (serveMetrics). */
interface ScrapeGauges {
  paymentsByState: Gauge<'state'>
  outboxPending: Gauge
  outboxOldestAge: Gauge
  outboxDead: Gauge
  workerDue: Gauge<'job'>
  workerLag: Gauge<'job'>
}

/** One service's metrics: its own registry and the metrics registered on it. */
export interface Metrics {
  /** What GET /metrics answers: this service's registry and the process's default metrics. */
  readonly scraped: Registry
  /** Starts timing a wallet call; call the result with how it came out (src/open-payments/outcomes.ts callWallet). */
  timeWalletCall(step: string): (outcome: WalletCallOutcome) => void
  /** Counts one HTTP request (`started`: performance.now() when it came in); measureRequests and the direct GraphQL path (src/graphql/direct-http.ts) share it. */
  observeRequest(method: string, route: string, status: number, started: number): void
  /** Set from the database at scrape time (serveMetrics). */
  readonly gauges: ScrapeGauges
}

/**
 * Node's default process metrics, the same for every service in the process: registered once, at
 * the first call, on a registry of their own. Process-wide on purpose (the process is one).
 */
let processRegistry: Registry | undefined

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** A fresh registry with every metric of the service, answered with the process's default metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry()

  const httpRequests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status, with their latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })

  const walletCalls = new Histogram({
    name: 'wallet_call_duration_seconds',
    help: 'Open Payments calls by step and outcome (answered, refused: the wallet said no, unavailable: failed, timed out or unreachable), with their latency',
    labelNames: ['step', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })

  const gauges: ScrapeGauges = {
    paymentsByState: new Gauge({ name: 'payments', help: 'Payments in the database by state', labelNames: ['state'] as const, registers: [registry] }),
    outboxPending: new Gauge({ name: 'webhook_outbox_pending', help: 'Webhook events not delivered yet', registers: [registry] }),
    outboxOldestAge: new Gauge({
      name: 'webhook_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest webhook event not delivered yet (0 when none)',
      registers: [registry],
    }),
    outboxDead: new Gauge({ name: 'webhook_outbox_dead', help: 'Webhook events given up after their retry schedule', registers: [registry] }),
    workerDue: new Gauge({ name: 'worker_due', help: 'Work items due now and not claimed, by job', labelNames: ['job'] as const, registers: [registry] }),
    workerLag: new Gauge({
      name: 'worker_lag_seconds',
      help: 'How long the oldest due, unclaimed work item of each job has been waiting (0 when none)',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
  }

  return {
    // Every metric of the service is registered above: a merge made now holds them all.
    scraped: Registry.merge([processMetrics(), registry]),
    gauges,
    timeWalletCall(step) {
      const started = performance.now()
      return (outcome) => walletCalls.observe({ step, outcome }, (performance.now() - started) / 1000)
    },
    observeRequest(method, route, status, started) {
      httpRequests.observe({ method: knownMethods.has(method) ? method : 'other', route, status }, (performance.now() - started) / 1000)
    },
  }
}

const paymentStates: PaymentState[] = ['AWAITING_APPROVAL', 'FINISHING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REJECTED', 'EXPIRED']

/** The methods the service answers; any other (WebDAV's PROPFIND, ...) is counted as "other". */
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/** Times one HTTP request, labelled with the route pattern that matched ("unmatched" for a 404 of no route). */
export function measureRequests(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now()
    try {
      await next()
    } finally {
      // The route that answers is the first matching one registered per method (app.get, app.post…);
      // app.use middlewares match every path under the method ALL.
      const route = matchedRoutes(c).find((matched) => matched.method !== 'ALL')?.path ?? 'unmatched'
      metrics.observeRequest(c.req.method, route, c.res.status, started)
    }
  }
}

const ageSeconds = (since: Date | null | undefined, now: Date) => (since ? Math.max(0, (now.getTime() - since.getTime()) / 1000) : 0)

async function readDatabaseGauges(deps: Deps): Promise<void> {
  const { prisma } = deps.db
  const { paymentsByState, outboxPending, outboxOldestAge, outboxDead, workerDue, workerLag } = deps.metrics.gauges
  const now = deps.clock.now()
  const [states, pending, dead, backlog] = await Promise.all([
    prisma.payment.groupBy({ by: ['state'], _count: true }),
    prisma.webhookEvent.aggregate({ where: { status: 'PENDING' }, _count: true, _min: { createdAt: true } }),
    prisma.webhookEvent.count({ where: { status: 'DEAD' } }),
    readWorkerLag(deps, now),
  ])
  for (const state of paymentStates) paymentsByState.set({ state }, 0)
  for (const row of states) paymentsByState.set({ state: row.state }, row._count)
  outboxPending.set(pending._count)
  outboxOldestAge.set(ageSeconds(pending._min.createdAt, now))
  outboxDead.set(dead)
  for (const [job, lag] of Object.entries(backlog)) {
    workerDue.set({ job }, lag.due)
    workerLag.set({ job }, (lag.oldestDueAgeMs ?? 0) / 1000)
  }
}

/**
 * The /metrics handler, behind requireApiToken(metricsScrapers(config)) (src/app.ts): with
 * METRICS_TOKENS set, only those bearer tokens may scrape (a scraper then holds no API token);
 * otherwise the API tokens (API_TOKENS) may.
 */
export const metricsScrapers = (config: Config): readonly string[] => (config.metricsTokens.length > 0 ? config.metricsTokens : config.apiTokens)

export function serveMetrics(deps: Deps): MiddlewareHandler {
  const { metrics } = deps
  return async (c) => {
    await readDatabaseGauges(deps)
    return c.body(await metrics.scraped.metrics(), 200, { 'content-type': metrics.scraped.contentType })
  }
}
