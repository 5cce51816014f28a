// Starts and stops the whole service in this process: database, bootstrap seller, HTTP server and
// background workers. main.ts calls it with the environment's config; tests call it directly.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { createApp, loadGraphQLOnce } from './app.js'
import { serveGraphQLDirectly } from './graphql/direct-http.js'
import { answerClientErrors } from './http/client-errors.js'
import { useConfig, type Config } from './config.js'
import { closeDatabase, migrateIfPending, openDatabase } from './db.js'
import { logger } from './logger.js'
import { startDemoWallets, type DemoWallets } from './sandbox/demo-wallets.js'
import { forgetChangedSellers } from './sellers/changes.js'
import { upsertSeller } from './sellers/service.js'
import { startWorkers } from './workers/index.js'

export interface RunningService {
  url: string
  close(): Promise<void>
}

export async function startService(cfg: Config): Promise<RunningService> {
  useConfig(cfg)
  await openDatabase(cfg.databaseUrl, { poolSize: cfg.databasePoolSize })
  if (cfg.migrateOnStart) await migrateIfPending(cfg.databaseUrl)
  const stopForgettingSellers = forgetChangedSellers()
  if (cfg.apiTokens.length === 0) {
    logger.warn('NO API_TOKENS CONFIGURED: the API is open to anyone who can reach it. Set API_TOKENS before exposing this service.')
  }

  // No real wallet configured (and not production): run the sandbox wallet in this process and
  // register its seller, so that a first `npm start` can take a checkout end to end offline.
  let demo: DemoWallets | undefined
  if (cfg.sandbox) {
    demo = await startDemoWallets({ port: cfg.sandbox.port, keysDir: cfg.keysDir, logger: logger.child({ component: 'sandbox' }) })
    cfg = useConfig({ ...cfg, openPayments: { ...cfg.openPayments, useHttp: true, allowPrivateHosts: true } })
    logger.warn({ seller: demo.seller.walletAddressUrl, buyer: demo.buyerWalletAddressUrl, eurBuyer: demo.eurBuyerWalletAddressUrl }, 'SANDBOX: no real wallet configured, using the embedded sandbox wallet')
  }
  if (cfg.bootstrapSeller) await upsertSeller(cfg.bootstrapSeller)
  else if (demo) {
    const { keyId, privateKeyPath, walletAddressUrl } = demo.seller
    await upsertSeller({ id: cfg.sellerId, walletAddressUrl, keyId, privateKeyPath }, { verifyWallet: false }) // startDemoWallets gave it this key
  }

  const graphql = loadGraphQLOnce()
  const app = createApp({ sandbox: Boolean(demo), graphql })
  // Hono's node listener (as @hono/node-server's serve() builds it), with the GraphQL fast path's
  // requests answered straight from node:http in front of it (src/graphql/direct-http.ts).
  const server = http.createServer(serveGraphQLDirectly(getRequestListener(app.fetch, { hostname: cfg.host }), graphql))
  await new Promise<void>((resolve) => server.listen(cfg.port, cfg.host, resolve))
  answerClientErrors(server)
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
  const workers = startWorkers()

  let closing: Promise<void> | undefined
  return {
    url,
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
        await closeDatabase()
        logger.info('payments service stopped')
      })()
      return closing
    },
  }
}
