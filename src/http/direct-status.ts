// `GET /payments/:pendingId/status`, the read the marketplace polls most, straight from node:http.
// Through Hono it costs a WHATWG Request, the router, six middlewares and a WHATWG Response copied
// back to node: about twice the read itself. This request listener sits in front of the others
// (src/service.ts) and answers the status of a payment that exists exactly as the Hono route
// (src/payments/routes.ts) does, byte for byte, with the same token check, request id, log line
// and metric; it takes only a request Hono would take as it is: GET of exactly
// `/payments/<id>/status` (no query string, no percent-encoding), no body, a plain Host, a valid
// API token, no CORS configured. Everything else, and every error (an id that is not one, a
// payment that does not exist, a database that fails), goes to `fallback` unchanged, which answers
// it as it always has. test/hardening/direct-status.test.ts compares both servers' raw answers.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Deps } from '../deps.js'
import { requirePaymentSummary } from '../payments/queries.js'
import { statusJson } from '../payments/routes.js'
import { requireIdentifier } from '../validation.js'
import { hasApiToken } from './auth.js'
import { headersOf, PLAIN_HOST } from './raw-request.js'
import { requestIdFrom, requestLogger } from './request-log.js'

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown

const STATUS_PATH = /^\/payments\/([^/?#%]+)\/status$/
/** The metrics' route label, as Hono's matched route names it. */
const ROUTE = '/payments/:pendingId/status'
const readHeaders = new Set(['host', 'authorization', 'content-length', 'transfer-encoding', 'x-request-id'] as const)

/** `fallback` (the next listener) with the payment status read answered in front of it. */
export function serveStatusDirectly(deps: Deps, fallback: Listener) {
  const { config, metrics } = deps
  const logLine = requestLogger(deps.logger)
  let served = 0

  async function answer(req: IncomingMessage, res: ServerResponse, pendingId: string, incomingRequestId: string | undefined) {
    const started = performance.now()
    let body: string
    try {
      body = JSON.stringify(statusJson(await requirePaymentSummary(deps, requireIdentifier('pendingId', pendingId))))
    } catch {
      return fallback(req, res) // Hono answers the error, as it does for every request it takes
    }
    const requestId = requestIdFrom(incomingRequestId)
    served++
    // Hono's headers in Hono's order (a WHATWG Headers iterates sorted by name); for a text body,
    // @hono/node-server adds its own Content-Length after them.
    res.writeHead(200, ['content-type', 'application/json', 'x-request-id', requestId, 'Content-Length', String(Buffer.byteLength(body))])
    res.end(body)
    metrics.observeRequest('GET', ROUTE, 200, started)
    logLine({ requestId, method: 'GET', path: req.url!, status: 200, started })
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const match = req.method === 'GET' && config.corsAllowedOrigins.length === 0 ? STATUS_PATH.exec(req.url ?? '') : null
    if (!match) return fallback(req, res)
    const headers = headersOf(req.rawHeaders, readHeaders)
    if (
      headers['content-length'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      headers.host === undefined ||
      !PLAIN_HOST.test(headers.host) ||
      !hasApiToken(config.apiTokens, headers.authorization)
    ) {
      return fallback(req, res)
    }
    return answer(req, res, match[1], headers['x-request-id'])
  }
  /** How many requests this path answered itself (for tests). */
  return Object.assign(listener, { served: () => served })
}
