// What a running service is made of, handed explicitly to everything that needs it: the route
// factories (src/app.ts), the GraphQL context (src/graphql/yoga.ts: `ctx.deps`), the workers
// (src/workers/) and every function that reads the database, the configuration, the clock or a
// wallet. Nothing in src/ keeps any of these in a module variable, so two services can run in one
// process (tests do), each on its own database, configuration, logs and clock.
// startService (src/service.ts) builds them; a function that needs them takes `deps` first.
import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Database } from './db.js'
import type { Metrics } from './metrics.js'
import type { Wallets } from './open-payments/wallets.js'

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
}
