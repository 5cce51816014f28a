// The two GETs a service answers most, straight from node:http: `GET /payments/:pendingId/status`
// (the read the marketplace polls) and `GET /health` (the load balancer's probe). Through Hono each
// costs a WHATWG Request, the router, six middlewares and a WHATWG Response copied back to node:
// more than the answer itself. This request listener sits in front of the others (src/service.ts)
// and answers them exactly as the Hono routes (src/payments/routes.ts, src/app.ts) do, byte for
// byte, with the same token check (the status only), request id, log line and metric. It takes
// only a request Hono would take as it is: GET of exactly the path (no query string, no
// percent-encoding), no body, a plain Host, no CORS configured. Everything else, and every error
// (an id that is not one, a payment that does not exist, a database that fails), goes to
// `fallback` unchanged, which answers it as it always has. test/hardening/direct-reads.test.ts
// compares both servers' raw answers.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { healthJson } from '../app.js'
import type { Deps } from '../deps.js'
import { requirePaymentSummary } from '../payments/queries.js'
import { statusJson } from '../payments/routes.js'
import { requireIdentifier } from '../validation.js'
import { hasApiToken } from './auth.js'
import { headersOf, PLAIN_HOST } from './raw-request.js'
import { requestIdFrom, requestLogger } from './request-log.js'

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown

const STATUS_PATH = /^\/payments\/([^/?#%]+)\/status$/
/** The metrics' route labels, as Hono's matched routes name them. */
const STATUS_ROUTE = '/payments/:pendingId/status'
const HEALTH_ROUTE = '/health'
const readHeaders = new Set(['host', 'authorization', 'content-length', 'transfer-encoding', 'x-request-id'] as const)

/** `fallback` (the next listener) with the status read and the liveness probe answered in front of it. */
export function serveReadsDirectly(deps: Deps, fallback: Listener, options: { sandbox: boolean }) {
  const { config, metrics } = deps
  const logLine = requestLogger(deps.logger)
  let served = 0

  function send(req: IncomingMessage, res: ServerResponse, route: string, body: string, incomingRequestId: string | undefined, started: number) {
    const requestId = requestIdFrom(incomingRequestId)
    served++
    // Hono's headers in Hono's order (a WHATWG Headers iterates sorted by name); for a text body,
    // @hono/node-server adds its own Content-Length after them.
    res.writeHead(200, ['content-type', 'application/json', 'x-request-id', requestId, 'Content-Length', String(Buffer.byteLength(body))])
    res.end(body)
    try {
      metrics.observeRequest('GET', route, 200, started)
      logLine({ requestId, method: 'GET', path: req.url!, status: 200, started })
    } catch (error) {
      deps.logger.error({ err: error, reqId: requestId }, 'recording a request failed') // as Hono's onError would catch it, never a crash
    }
  }

  async function answerStatus(req: IncomingMessage, res: ServerResponse, pendingId: string, incomingRequestId: string | undefined) {
    const started = performance.now()
    let body: string
    try {
      body = JSON.stringify(statusJson(await requirePaymentSummary(deps, requireIdentifier('pendingId', pendingId))))
    } catch {
      return fallback(req, res) // Hono answers the error, as it does for every request it takes
    }
    send(req, res, STATUS_ROUTE, body, incomingRequestId, started)
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' || config.corsAllowedOrigins.length > 0) return fallback(req, res)
    const health = req.url === HEALTH_ROUTE
    const status = health ? null : STATUS_PATH.exec(req.url ?? '')
    if (!health && !status) return fallback(req, res)
    const headers = headersOf(req.rawHeaders, readHeaders)
    if (
      headers['content-length'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      headers.host === undefined ||
      !PLAIN_HOST.test(headers.host) ||
      (status && !hasApiToken(config.apiTokens, headers.authorization))
    ) {
      return fallback(req, res)
    }
    if (health) return send(req, res, HEALTH_ROUTE, JSON.stringify(healthJson(options.sandbox)), headers['x-request-id'], performance.now())
    return answerStatus(req, res, status![1], headers['x-request-id'])
  }
  /** How many requests this path answered itself (for tests). */
  return Object.assign(listener, { served: () => served })
}
