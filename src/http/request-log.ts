// One log line per request, with a request id (taken from X-Request-Id when it looks sane, else a
// random UUID: unique across replicas, cheap; it names a request in the logs, it grants nothing).
// Only the path is logged: query strings can carry finish-redirect secrets (hash, interact_ref).
// - Level: info for every request, except probes (/health, /ready) that succeed: debug, so that a
//   load balancer probing every few seconds does not fill the log. A failing probe is info.
// - The line's fields are fixed here and carry nothing secret by key, so it is written by a child
//   logger without the root logger's key redaction (src/logger.ts), which costs ~10x the rest of
//   the line. (Redaction is by key: it never looked inside the path's value either.)
import crypto from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string
  }
}

const PROBES = new Set(['/health', '/ready'])
const SANE_REQUEST_ID = /^[\w.-]{1,64}$/

/** The request id: the caller's X-Request-Id when it looks sane, else a random UUID. */
export const requestIdFrom = (incoming: string | undefined): string => (incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID())

export interface RequestLine {
  requestId: string
  method: string
  path: string
  status: number
  /** performance.now() when the request came in. */
  started: number
}

/** Writes the request's log line; logRequests and the direct GraphQL path (src/graphql/direct-http.ts) share it. */
export function requestLogger(logger: Logger): (line: RequestLine) => void {
  const log = logger.child({}, { redact: [] })
  return ({ requestId, method, path, status, started }) => {
    const level = status < 400 && PROBES.has(path) ? 'debug' : 'info'
    if (!log.isLevelEnabled(level)) return
    log[level](
      {
        reqId: requestId,
        method,
        // A path can be as long as node's header limit (16 KB); a log line keeps its start.
        path: path.length > 200 ? `${path.slice(0, 200)}…` : path,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    )
  }
}

export function logRequests(logger: Logger): MiddlewareHandler {
  const logLine = requestLogger(logger)
  return async (c, next) => {
    const requestId = requestIdFrom(c.req.header('x-request-id'))
    c.set('requestId', requestId)
    c.header('X-Request-Id', requestId)
    const started = performance.now()
    await next()
    // A handler that answers a Response of its own (yoga, the GraphQL fast path) drops the header set above.
    if (!c.res.headers.has('x-request-id')) c.res.headers.set('X-Request-Id', requestId)
    logLine({ requestId, method: c.req.method, path: c.req.path, status: c.res.status, started })
  }
}
