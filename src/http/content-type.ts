// Every request body this service reads is JSON, and must say so. A page on another site can post
// text/plain, form or multipart bodies cross-site without a CORS preflight; it cannot send
// `Content-Type: application/json` that way. So a POST with any other type is refused (415)
// before a route or yoga sees it (yoga would otherwise execute form-encoded operations).
import type { MiddlewareHandler } from 'hono'
import { AppError } from '../errors.js'

const isJson = (contentType: string | undefined) => contentType?.split(';')[0].trim().toLowerCase() === 'application/json'

export function requireJsonBody(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'POST' && !isJson(c.req.header('content-type'))) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json')
    }
    // Bodies are read as they arrive: a compressed one would be taken for malformed JSON.
    const encoding = c.req.header('content-encoding')?.trim().toLowerCase()
    if (c.req.method === 'POST' && encoding && encoding !== 'identity') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding is not supported: send the JSON body uncompressed')
    }
    await next()
  }
}
