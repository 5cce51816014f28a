// Bounds request bodies at BODY_LIMIT_BYTES. The 413 closes the connection (`Connection: close`):
// the rest of the oversized body is never read, so the connection cannot carry another request,
// and a keep-alive client must be told so rather than find a reset on its next request. (A chunked
// body is partly read when the limit trips, so unread-body.ts cannot tell; this says it.)
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { AppError } from '../errors.js'

export function limitBodySize(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header('Connection', 'close')
      throw new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`)
    },
  })
  // A GET or HEAD has no body here (@hono/node-server never reads one), and hono's bodyLimit
  // would build the whole WHATWG Request just to find that out.
  return (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limit(c, next))
}
