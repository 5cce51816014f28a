// Cross-origin access for browser front ends, from CORS_ALLOWED_ORIGINS (src/config.ts).
// - Empty (the default): no CORS headers at all, so browsers refuse every cross-origin read.
// - Applies to /graphql and the REST API, never to the wallet's finish redirect: that is a
//   top-level navigation of the buyer's browser, which no other site has any reason to fetch.
// - Preflights (OPTIONS) are answered here, before authentication (browsers send them without the
//   token) and before any route: they run nothing and carry nothing back but these headers.
// - Credentials (cookies, HTTP auth) are never allowed, with `*` or otherwise: the API is called
//   with a bearer token in the Authorization header, which needs no credentials mode.
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'

/** The wallet's finish redirect and the buyer's finish page below it (src/payments/routes.ts). */
const FINISH_REDIRECT_PATH = '/payments/finish'

export function allowCrossOrigin(origins: readonly string[]): MiddlewareHandler {
  if (origins.length === 0) return (_c, next) => next()
  const answerCors = cors({
    origin: origins.includes('*') ? '*' : [...origins],
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'WWW-Authenticate'],
    maxAge: 600,
    credentials: false,
  })
  const isFinishPage = (path: string) => path === FINISH_REDIRECT_PATH || path.startsWith(`${FINISH_REDIRECT_PATH}/`)
  return (c, next) => (isFinishPage(c.req.path) ? next() : answerCors(c, next))
}
