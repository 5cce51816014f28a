// One fetch handler for the whole service: /health, the REST routes, and /graphql (yoga).
// Everything except /health, the GraphiQL page and the wallet's finish redirect needs a token;
// no request without one reaches yoga.
import { Hono } from 'hono'
import type { Deps } from './deps.js'
import { AppError } from './errors.js'
import { graphiqlAssetRoutes, renderGraphiQLPage } from './graphql/graphiql.js'
import type { createGraphQLServer } from './graphql/yoga.js'
import { requireApiToken } from './http/auth.js'
import { limitBodySize } from './http/body-limit.js'
import { requireJsonBody } from './http/content-type.js'
import { allowCrossOrigin } from './http/cors.js'
import { faviconRoutes } from './http/favicon.js'
import { respondWithError } from './http/errors.js'
import { logRequests } from './http/request-log.js'
import { measureRequests, metricsScrapers, serveMetrics } from './metrics.js'
import { closeWhenBodyUnread } from './http/unread-body.js'
import { finishRoutes, paymentRoutes } from './payments/routes.js'
import { sellerRoutes } from './sellers/routes.js'

type GraphQLServer = ReturnType<typeof createGraphQLServer>

/**
 * Loads the GraphQL stack (the Pothos schema, yoga and its plugins) on its first call, once.
 * It is the largest part of start-up that /health and the REST routes do not need: service.ts
 * calls it right after the server listens, a GraphQL request that comes sooner waits for it, and
 * /ready answers once it is loaded.
 */
export function loadGraphQLOnce(deps: Deps): () => Promise<GraphQLServer> {
  let loading: Promise<GraphQLServer> | undefined
  return () => (loading ??= import('./graphql/yoga.js').then((yoga) => yoga.createGraphQLServer(deps)))
}

export interface AppOptions {
  /** Shown in /health and logs when the embedded sandbox wallet is serving this process. */
  sandbox?: boolean
  /** The GraphQL stack's loader (loadGraphQLOnce); one of its own when not given. */
  graphql?: () => Promise<GraphQLServer>
}

/** A browser navigation (GET asking for HTML), the only request the GraphiQL page answers. */
const prefersHtml = (req: Request) => req.method === 'GET' && (req.headers.get('accept') ?? '').includes('text/html')

/** The liveness answer (also served straight from node:http: src/http/direct-reads.ts). */
export const healthJson = (sandbox: boolean) => ({ status: 'ok', service: 'payments', time: new Date().toISOString(), ...(sandbox ? { mode: 'SANDBOX' } : {}) })

/**
 * yoga answers an Accept it cannot serve with an empty 406; every error a client gets has the
 * documented shape, so that one gets it too. (Other yoga refusals are GraphQL errors already.)
 */
async function executeGraphQL(yoga: GraphQLServer, req: Request): Promise<Response> {
  const res = await yoga.fetch(req)
  if (res.status === 406) throw new AppError('NOT_ACCEPTABLE', 'Accept must allow application/json or application/graphql-response+json')
  return res
}

export function createApp(deps: Deps, options: AppOptions = {}): Hono {
  const { config, logger } = deps
  const graphql = options.graphql ?? loadGraphQLOnce(deps)
  const app = new Hono()

  app.use(logRequests(logger))
  app.use(measureRequests(deps.metrics))
  app.use(closeWhenBodyUnread())
  app.onError((error, c) => respondWithError(c, error, logger))
  const notFound = new AppError('NOT_FOUND', 'Not found') // one instance: an Error's stack costs more than the answer
  app.notFound((c) => respondWithError(c, notFound, logger))
  app.use(allowCrossOrigin(config.corsAllowedOrigins))
  // For load balancers: this process can serve (database reachable, every migration applied,
  // GraphQL loaded: the first probe after start-up may wait for it).
  app.get('/ready', async (c) => {
    await graphql()
    const pending = await deps.db.pendingMigrations().catch(() => undefined)
    if (!pending) throw new AppError('NOT_READY', 'The database cannot be reached')
    if (pending.length > 0) throw new AppError('NOT_READY', 'Database migrations are pending', { pending })
    return c.json({ status: 'ready' })
  })

  app.get('/metrics', requireApiToken(metricsScrapers(config)), serveMetrics(deps)) // its own tokens: METRICS_TOKENS, else API_TOKENS
  // Liveness: this process is up and its HTTP server answers. It asks nothing of the database,
  // so a probe costs next to nothing; /ready is the check that the database serves.
  app.get('/health', (c) => c.json(healthJson(Boolean(options.sandbox))))

  // The GraphiQL page is static HTML that executes nothing, so a browser may load it without a
  // token. The decision reads only the method and Accept header, never the URL: yoga is not asked.
  if (config.graphiql) {
    app.get('/graphql', (c, next) => (prefersHtml(c.req.raw) ? c.html(renderGraphiQLPage()) : next()))
  }
  app.route('/', finishRoutes(deps))
  app.route('/', faviconRoutes)
  if (config.graphiql) app.route('/', graphiqlAssetRoutes)

  // Everything below needs the token, and is authenticated before its body is read.
  app.use(requireApiToken(config.apiTokens))
  app.use(limitBodySize(config.bodyLimitBytes))
  app.use(requireJsonBody())
  app.on(['GET', 'POST'], '/graphql', async (c) => executeGraphQL(await graphql(), c.req.raw))
  app.route('/', sellerRoutes(deps))
  app.route('/', paymentRoutes(deps))
  return app
}
