// What a service is made of (src/deps.ts), built the way startService (src/service.ts) builds it,
// for the benchmarks that drive the service's internals without its HTTP side or its full set of
// workers (bench/webhooks.ts, bench/webhooks-replicas.ts, bench/support/webhook-replica.ts,
// bench/read-path.ts): the database opened with the configured pool, a logger, the system clock,
// the Open Payments clients and a metrics registry of its own. The caller closes `deps.db`.
// (Kept apart from service-env.ts, which the other benchmarks' drivers import for its environment
// alone, without loading the service.)
import type { Logger } from 'pino'
import type { Config } from '../../src/config.js'
import { openDatabase } from '../../src/db.js'
import { systemClock, type Clock, type Deps } from '../../src/deps.js'
import { createLogger } from '../../src/logger.js'
import { createMetrics } from '../../src/metrics.js'
import { createLiveStreams } from '../../src/payments/live-updates.js'
import { createSecrets } from '../../src/secrets.js'
import { createSellerChanges } from '../../src/sellers/changes.js'
import { createWallets } from '../../src/open-payments/wallets.js'

export async function openServiceDeps(cfg: Config, options: { logger?: Logger; clock?: Clock } = {}): Promise<Deps> {
  const logger = options.logger ?? createLogger(cfg.logLevel)
  const db = await openDatabase(cfg.databaseUrl, { poolSize: cfg.databasePoolSize })
  return {
    config: cfg,
    db,
    logger,
    clock: options.clock ?? systemClock,
    wallets: createWallets(cfg, logger),
    metrics: createMetrics(),
    secrets: createSecrets(cfg),
    sellerChanges: createSellerChanges(),
    liveStreams: createLiveStreams(),
  }
}
