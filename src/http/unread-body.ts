// A response given before the request body was read (401, 404, 415, 413...) leaves that body on the
// connection. @hono/node-server 2.1.9 then drains it for at most 500 ms and drops the socket, even
// though the response said keep-alive, so a pooled client's next request met a reset. Such
// responses announce `Connection: close` instead, and node closes the connection after them.
import type { MiddlewareHandler } from 'hono'

const hasBody = (req: Request) => req.headers.has('transfer-encoding') || Number(req.headers.get('content-length') ?? 0) > 0

export function closeWhenBodyUnread(): MiddlewareHandler {
  return async (c, next) => {
    await next()
    if (hasBody(c.req.raw) && !c.req.raw.bodyUsed) c.header('Connection', 'close')
  }
}
