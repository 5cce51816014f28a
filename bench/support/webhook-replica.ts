// One replica's background work for bench/webhooks-replicas.ts: opens the database named by
// DATABASE_URL and runs every worker (src/workers/), as a service replica does, without the HTTP
// side. Prints one JSON line when ready; stops its workers cleanly on SIGTERM.
import { parseConfig, useConfig } from '../../src/config.js'
import { closeDatabase, openDatabase } from '../../src/db.js'
import { createLogger, useLogger } from '../../src/logger.js'
import { startWorkers } from '../../src/workers/index.js'

const cfg = useConfig(parseConfig(process.env))
useLogger(createLogger(cfg.logLevel))
await openDatabase(cfg.databaseUrl, { poolSize: cfg.databasePoolSize })
const workers = startWorkers()
process.stdout.write(`${JSON.stringify({ pid: process.pid })}\n`)
process.on('SIGTERM', async () => {
  await workers.stop()
  await closeDatabase()
  process.exit(0)
})
