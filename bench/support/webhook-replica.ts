// One replica's background work for bench/webhooks-replicas.ts: opens the database named by
// DATABASE_URL and runs every worker (src/workers/) on a service's Deps, as a service replica does,
// without the HTTP side. Prints one JSON line when ready; stops its workers cleanly on SIGTERM.
import { parseConfig } from '../../src/config.js'
import { startWorkers } from '../../src/workers/index.js'
import { openServiceDeps } from './service-deps.js'

const deps = await openServiceDeps(parseConfig(process.env))
const workers = startWorkers(deps)
process.stdout.write(`${JSON.stringify({ pid: process.pid })}\n`)
process.on('SIGTERM', async () => {
  await workers.stop()
  await deps.db.close()
  process.exit(0)
})
