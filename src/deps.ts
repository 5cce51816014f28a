// What a running service is made of, handed explicitly to everything that needs it: the route
// factories (src/app.ts), the GraphQL context (src/graphql/yoga.ts: `ctx.deps`), the workers
// (src/workers/) and every function that reads the database, the configuration, the clock or a
// wallet. Nothing in src/ keeps any of these, or any other state of a service, in a module
// variable, so two services can run in one process (tests do), each on its own database,
// configuration, logs and clock. What stays process-wide does so on purpose and is the same for
// every service: static tables, memos of pure functions (a token list's digests, a field's
// identifier schema), the Open Payments SDK's compiled response validators, the lazily imported
// modules (undici, graphql-jit), the undici connection agents (one per SSRF policy:
// src/open-payments/network-guard.ts) and Node's default process metrics (src/metrics.ts: the
// process is one).
// createDeps builds them (startService in src/service.ts, and the benchmarks that drive the
// service's internals); a function that needs them takes `deps` first.
import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Database } from './db.js'
import { createMetrics, type Metrics } from './metrics.js'
import { createWallets, type Wallets } from './open-payments/wallets.js'
import { createLiveStreams, type LiveStreams } from './payments/live-updates.js'
import { createSecrets, type Secrets } from './secrets.js'
import { createSellerChanges, type SellerChanges } from './sellers/changes.js'

/** The time the service acts on: lease expiries, retry schedules, quote and grant deadlines. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

export interface Deps {
  config: Config
  db: Database
  logger: Logger
  clock: Clock
  /** Open Payments clients and what is cached per seller and wallet (src/open-payments/wallets.ts). */
  wallets: Wallets
  /** This service's Prometheus registry (src/metrics.ts). */
  metrics: Metrics
  /** Its token encryption at rest, under its TOKEN_ENCRYPTION_KEY (src/secrets.ts). */
  secrets: Secrets
  /** Which seller changes it has already dropped cached entries for (src/sellers/changes.ts). */
  sellerChanges: SellerChanges
  /** The live status streams it serves now, bounded by LIVE_SUBSCRIPTIONS_MAX (src/payments/live-updates.ts). */
  liveStreams: LiveStreams
}

/** What a service is made of, on its configuration and opened database: everything else made fresh for it. */
export function createDeps(config: Config, db: Database, options: { logger: Logger; clock?: Clock }): Deps {
  const { logger } = options
  return {
    config,
    db,
    logger,
    clock: options.clock ?? systemClock,
    wallets: createWallets(config, logger),
    metrics: createMetrics(),
    secrets: createSecrets(config),
    sellerChanges: createSellerChanges(),
    liveStreams: createLiveStreams(),
  }
}
