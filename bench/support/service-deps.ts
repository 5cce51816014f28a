// What a service is made of (src/deps.ts), built by the same createDeps as startService
// (src/service.ts), for the benchmarks that drive the service's internals without its HTTP side or
// its full set of workers (bench/webhooks.ts, bench/webhooks-replicas.ts,
// bench/support/webhook-replica.ts, bench/read-path.ts): the database opened with the configured
// pool, a logger, the system clock unless given another. The caller closes `deps.db`.
// (Kept apart from service-env.ts, which the other benchmarks' drivers import for its environment
// alone, without loading the service.)
import type { Logger } from 'pino'
import type { Config } from '../../src/config.js'
import { openDatabase } from '../../src/db.js'
import { createDeps, type Clock, type Deps } from '../../src/deps.js'
import { createLogger } from '../../src/logger.js'

export async function openServiceDeps(cfg: Config, options: { logger?: Logger; clock?: Clock } = {}): Promise<Deps> {
  const db = await openDatabase(cfg.databaseUrl, { poolSize: cfg.databasePoolSize })
  return createDeps(cfg, db, { logger: options.logger ?? createLogger(cfg.logLevel), clock: options.clock })
}
