// Starts and stops the whole service in this process: database, bootstrap seller, HTTP server and
// background workers. main.ts calls it with the environment's config; tests call it directly.
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { createApp } from './app.js'
import { useConfig, type Config } from './config.js'
import { closeDatabase, migrateDatabase, openDatabase } from './db.js'
import { logger } from './logger.js'
import { upsertSeller } from './sellers/service.js'
import { startWebhookDispatcher } from './webhooks/dispatcher.js'

export interface RunningService {
  url: string
  close(): Promise<void>
}

export interface ServiceHooks {
  /** Runs after the database is open and before the server listens (the embedded sandbox uses it). */
  beforeListen?: () => Promise<void>
  sandbox?: boolean
}

export async function startService(cfg: Config, hooks: ServiceHooks = {}): Promise<RunningService> {
  useConfig(cfg)
  if (cfg.migrateOnStart) await migrateDatabase(cfg.databaseUrl)
  await openDatabase(cfg.databaseUrl)
  if (cfg.apiTokens.length === 0) {
    logger.warn('NO API_TOKENS CONFIGURED: the API is open to anyone who can reach it. Set API_TOKENS before exposing this service.')
  }
  await hooks.beforeListen?.()
  if (cfg.bootstrapSeller) {
    await upsertSeller(cfg.bootstrapSeller)
  }

  const app = createApp({ sandbox: hooks.sandbox })
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: cfg.port, hostname: cfg.host }, () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`
  logger.info({ url, sandbox: Boolean(hooks.sandbox) }, 'payments service listening')
  const webhookDispatcher = startWebhookDispatcher()

  let closing: Promise<void> | undefined
  return {
    url,
    close() {
      closing ??= (async () => {
        // Stop accepting; in-flight requests finish (keep-alive sockets are closed once idle).
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          if ('closeIdleConnections' in server) server.closeIdleConnections()
        })
        await webhookDispatcher.stop()
        await closeDatabase()
        logger.info('payments service stopped')
      })()
      return closing
    },
  }
}
