// Entry point: `npm start`. Loads and checks the configuration, starts the service (with the
// embedded sandbox wallet when no real wallet is configured), and shuts down cleanly on signals.
import { ConfigError, loadConfig } from './config.js'
import { createLogger } from './logger.js'
import { startService } from './service.js'

async function main() {
  let cfg
  try {
    cfg = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(78) // EX_CONFIG
    }
    throw error
  }
  const log = createLogger(cfg.logLevel)
  // Signals are handled from the start: the server answers before start-up has finished (the
  // GraphQL stack loads after it listens), and a stop then waits for start-up, then closes.
  const starting = startService(cfg, { logger: log })

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting')
      process.exit(1)
    }, 10_000)
    force.unref()
    const service = await starting.catch(() => undefined) // a failed start exits below
    if (!service) return
    await service.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  await starting
}

main().catch((error) => {
  process.stderr.write(`payments service failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
