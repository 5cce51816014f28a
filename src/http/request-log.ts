// One log line per request, with a request id (taken from X-Request-Id when it looks sane).
// Only the path is logged: query strings can carry finish-redirect secrets (hash, interact_ref).
import type { MiddlewareHandler } from 'hono'
import { ulid } from 'ulid'
import { logger } from '../logger.js'

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string
  }
}

export function logRequests(): MiddlewareHandler {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id')
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : ulid()
    c.set('requestId', requestId)
    c.header('X-Request-Id', requestId)
    const started = performance.now()
    await next()
    logger.info(
      {
        reqId: requestId,
        method: c.req.method,
        // A path can be as long as node's header limit (16 KB); a log line keeps its start.
        path: c.req.path.length > 200 ? `${c.req.path.slice(0, 200)}…` : c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    )
  }
}
