// Starts and stops the whole service in this process: database, bootstrap seller, HTTP server and
// background workers. main.ts calls it with the environment's config; tests call it directly, and
// may start several in one process, each with its own logger and clock. Everything the service is
// made of (src/deps.ts: createDeps) is built here and handed down; nothing is kept in module variables.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { createApp, loadGraphQLOnce } from './app.js'
import { serveGraphQLDirectly } from './graphql/direct-http.js'
import { answerClientErrors } from './http/client-errors.js'
import { serveReadsDirectly } from './http/direct-reads.js'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { migrateIfPending, openDatabase, type Database } from './db.js'
import { createDeps, type Clock, type Deps } from './deps.js'
import { createLogger } from './logger.js'
import { startDemoWallets, type DemoWallets } from './sandbox/demo-wallets.js'
import { forgetChangedSellers } from './sellers/changes.js'
import { upsertSeller } from './sellers/service.js'
import { startWorkers } from './workers/index.js'

export interface RunningService {
  url: string
  /** What this service is made of (its database, configuration, logger, clock, wallets, metrics). */
  deps: Deps
  close(): Promise<void>
}

export interface ServiceOptions {
  /** Where its logs go; by default a logger at the configured LOG_LEVEL on stdout. */
  logger?: Logger
  /** The time it acts on; by default the system clock. */
  clock?: Clock
}

export async function startService(cfg: Config, options: ServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(cfg.logLevel)
  const db = await openDatabase(cfg.databaseUrl, { poolSize: cfg.databasePoolSize })
  // What is opened from here on is closed again, last first, if the start fails part way (a
  // migration, the sandbox wallet, the bootstrap seller, the port): nothing is left running.
  const opened: (() => unknown)[] = [() => db.close()]
  try {
    return await startOn(cfg, options, logger, db, opened)
  } catch (error) {
    for (const close of opened.reverse()) {
      try {
        await close()
      } catch (closeError) {
        logger.warn({ err: closeError }, 'closing after a failed start failed')
      }
    }
    throw error
  }
}

async function startOn(cfg: Config, options: ServiceOptions, logger: Logger, db: Database, opened: (() => unknown)[]): Promise<RunningService> {
  if (cfg.migrateOnStart) {
    await migrateIfPending(db, cfg.databaseUrl, {
      onWaiting: () => logger.warn('another process is still applying migrations: waiting until it is done'),
      onStillWaiting: (holder) => logger.warn({ lockHolder: holder }, 'still waiting for the migration lock'),
    })
  }
  if (cfg.apiTokens.length === 0) {
    logger.warn('NO API_TOKENS CONFIGURED: the API is open to anyone who can reach it. Set API_TOKENS before exposing this service.')
  }

  // No real wallet configured (and not production): run the sandbox wallet in this process and
  // register its seller, so that a first `npm start` can take a checkout end to end offline.
  let demo: DemoWallets | undefined
  if (cfg.sandbox) {
    demo = await startDemoWallets({ port: cfg.sandbox.port, keysDir: cfg.keysDir, logger: logger.child({ component: 'sandbox' }) })
    const sandbox = demo.sandbox
    opened.push(() => sandbox.close())
    cfg = { ...cfg, openPayments: { ...cfg.openPayments, useHttp: true, allowPrivateHosts: true } }
    logger.warn({ seller: demo.seller.walletAddressUrl, buyer: demo.buyerWalletAddressUrl, eurBuyer: demo.eurBuyerWalletAddressUrl }, 'SANDBOX: no real wallet configured, using the embedded sandbox wallet')
  }
  const deps = createDeps(cfg, db, { logger, clock: options.clock })
  const stopForgettingSellers = forgetChangedSellers(deps)
  opened.push(stopForgettingSellers)
  if (cfg.bootstrapSeller) await upsertSeller(deps, cfg.bootstrapSeller)
  else if (demo) {
    const { keyId, privateKeyPath, walletAddressUrl } = demo.seller
    await upsertSeller(deps, { id: cfg.sellerId, walletAddressUrl, keyId, privateKeyPath }, { verifyWallet: false }) // startDemoWallets gave it this key
  }

  const graphql = loadGraphQLOnce(deps)
  const app = createApp(deps, { sandbox: Boolean(demo), graphql })
  // Hono's node listener (as @hono/node-server's serve() builds it), with the hottest requests
  // answered straight from node:http in front of it: the payment status the marketplace polls and
  // the liveness probe (src/http/direct-reads.ts), and the GraphQL fast path's (src/graphql/direct-http.ts).
  const hono = getRequestListener(app.fetch, { hostname: cfg.host })
  const server = http.createServer(serveReadsDirectly(deps, serveGraphQLDirectly(deps, hono, graphql), { sandbox: Boolean(demo) }))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject) // the port is taken, or not ours to listen on
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  opened.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  answerClientErrors(server, logger)
  const { port } = server.address() as AddressInfo
  const url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`
  logger.info({ url, sandbox: Boolean(demo) }, 'payments service listening')
  if (demo) {
    logger.info(
      `SANDBOX: try a checkout: curl -X POST ${url}/offers/1/quotes/start -H 'content-type: application/json' -d '{"sellerId":"${cfg.sellerId}","buyerWalletAddressUrl":"${demo.buyerWalletAddressUrl}","amount":"100"}' then open its redirectUrl in a browser (buyer in EUR: ${demo.eurBuyerWalletAddressUrl})`,
    )
  }
  // /health and the REST routes answer from here on, while the GraphQL stack loads (app.ts).
  await graphql()
  const workers = startWorkers(deps)

  let closing: Promise<void> | undefined
  return {
    url,
    deps,
    close() {
      closing ??= (async () => {
        // Stop accepting; in-flight requests finish (keep-alive sockets are closed once idle).
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
        await workers.stop()
        await demo?.sandbox.close()
        stopForgettingSellers()
        await db.close()
        logger.info('payments service stopped')
      })()
      return closing
    },
  }
}
