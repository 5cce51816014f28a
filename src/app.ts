// One fetch handler for the whole service: /health, the REST routes, and /graphql (yoga).
// Everything except /health, the GraphiQL page and the wallet's finish redirect needs a token.
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { config } from './config.js'
import { db, pendingMigrations } from './db.js'
import { AppError } from './errors.js'
import { createGraphQLServer } from './graphql/yoga.js'
import { requireApiToken } from './http/auth.js'
import { respondWithError } from './http/errors.js'
import { logRequests } from './http/request-log.js'
import { finishRoutes, paymentRoutes } from './payments/routes.js'
import { sellerRoutes } from './sellers/routes.js'

export interface AppOptions {
  /** Shown in /health and logs when the embedded sandbox wallet is serving this process. */
  sandbox?: boolean
}

export function createApp(options: AppOptions = {}): Hono {
  const yoga = createGraphQLServer()
  const app = new Hono()

  app.use(logRequests())
  app.onError((error, c) => respondWithError(c, error))
  app.notFound((c) => respondWithError(c, new AppError('NOT_FOUND', 'Not found')))
  app.use(
    bodyLimit({
      maxSize: config.bodyLimitBytes,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${config.bodyLimitBytes} bytes`)
      },
    }),
  )

  // For load balancers: this process can serve (database reachable, every migration applied).
  app.get('/ready', async (c) => {
    const pending = await pendingMigrations().catch(() => undefined)
    if (!pending) throw new AppError('NOT_READY', 'The database cannot be reached')
    if (pending.length > 0) throw new AppError('NOT_READY', 'Database migrations are pending', { pending })
    return c.json({ status: 'ready' })
  })

  app.get('/health', async (c) => {
    await db.$queryRawUnsafe('SELECT 1')
    return c.json({
      status: 'ok',
      service: 'payments',
      time: new Date().toISOString(),
      ...(options.sandbox ? { mode: 'SANDBOX' } : {}),
    })
  })

  // GraphiQL is a static page; the queries it sends are authenticated like any other.
  const isGraphiQLPage = (req: Request) =>
    req.method === 'GET' && (req.headers.get('accept') ?? '').includes('text/html') && !new URL(req.url).searchParams.has('query')
  const requireToken = requireApiToken()
  app.on(['GET', 'POST'], '/graphql', (c, next) => (isGraphiQLPage(c.req.raw) ? next() : requireToken(c, next)))
  app.on(['GET', 'POST'], '/graphql', (c) => yoga.fetch(c.req.raw))

  app.route('/', finishRoutes)

  app.use(requireToken)
  app.route('/', sellerRoutes)
  app.route('/', paymentRoutes)
  return app
}
