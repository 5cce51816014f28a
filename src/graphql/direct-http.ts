// The GraphQL fast path (src/graphql/fast-path.ts) straight from node:http. Through Hono, a
// `POST /graphql` costs a WHATWG Request, its body read as a stream, a WHATWG Response and the
// adapter copying it back to node: more than the fast path's own work. This request listener sits
// in front of Hono's (service.ts) and answers the requests the fast path serves from node's
// IncomingMessage and ServerResponse, with the same answer the Hono app gives, byte for byte:
//   - the same functions as the Hono middleware: the API token check (hasApiToken), the request id
//     and the log line (src/http/request-log.ts), the metrics observation (route `/graphql`);
//   - only what passes every check of the Hono path: POST of exactly `/graphql` (no query string),
//     a valid API token, a Host Hono takes as it is, `Content-Type: application/json` (charset
//     utf-8 at most), no Content-Encoding or Transfer-Encoding, a Content-Length within
//     BODY_LIMIT_BYTES, an Accept the fast path answers, no CORS configured (its middleware adds
//     headers to every answer, Origin or not), GraphQL loaded;
//   - the headers each check reads, read as Hono reads them: duplicates joined with ", ".
// Everything else goes to the Hono app unchanged: the request before its body is read, or, once
// the body is read and the fast path hands it to yoga (bad JSON, invalid documents, variables that
// do not fit), with that body as `rawBody`, which @hono/node-server reads instead of the stream.
// test/hardening/graphql-fast-path.test.ts compares both servers' raw HTTP answers.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Deps } from '../deps.js'
import { hasApiToken } from '../http/auth.js'
import { errorBody } from '../http/errors.js'
import { headersOf, PLAIN_HOST } from '../http/raw-request.js'
import { requestIdFrom, requestLogger } from '../http/request-log.js'
import { AppError } from '../errors.js'
import { fastPathMediaType, isFastPathContentType } from './fast-path-media.js'
import type { createGraphQLServer } from './yoga.js'

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown
type GraphQLServer = ReturnType<typeof createGraphQLServer>

/** The request headers the checks read. */
const READ = ['host', 'authorization', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'accept', 'x-request-id'] as const
type Read = Partial<Record<(typeof READ)[number], string>>
const readHeaders = new Set(READ)
const DIGITS = /^\d+$/
/** As Response.text() decodes: UTF-8, a leading BOM dropped, bad bytes replaced. */
const utf8 = new TextDecoder()

/** The whole body (events rather than an async iterator: a few percent of the request's CPU less). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
    req.once('error', reject)
    req.once('close', () => reject(new Error('The connection closed before the body arrived'))) // after 'end': no effect
  })
}

/**
 * `fallback` (Hono's request listener) with the direct GraphQL path of the service `deps` in front of it. `graphql` is
 * the app's GraphQL loader (app.ts): until it has loaded, every request goes to Hono.
 */
export function serveGraphQLDirectly(deps: Deps, fallback: Listener, graphql: () => Promise<GraphQLServer>) {
  const { config, logger, metrics } = deps
  let server: GraphQLServer | undefined
  graphql().then((loaded) => (server = loaded), () => {}) // a failed load is Hono's to report
  const logLine = requestLogger(logger)
  let served = 0

  async function serve(req: IncomingMessage, res: ServerResponse, server: GraphQLServer, mediaType: string, headers: Read) {
    const requestId = requestIdFrom(headers['x-request-id'])
    const started = performance.now()
    const raw = await readBody(req)
    let status: number
    let contentType: string
    let body: string
    try {
      const answer = await server.fetch.answer(utf8.decode(raw), mediaType)
      if (!answer) {
        Object.assign(req, { rawBody: raw }) // read by @hono/node-server instead of the stream
        return fallback(req, res)
      }
      ;({ status, contentType, body } = answer)
    } catch (error) {
      // As app.ts's onError (respondWithError) answers what nobody expected.
      logger.error({ err: error, reqId: requestId }, 'unexpected error')
      const internal = new AppError('INTERNAL', 'Internal server error')
      ;({ status, contentType, body } = { status: internal.status, contentType: 'application/json', body: JSON.stringify(errorBody(internal)) })
    }
    served++
    // Hono's headers in Hono's order (a WHATWG Headers iterates sorted by name).
    res.writeHead(status, ['content-length', String(Buffer.byteLength(body)), 'content-type', contentType, 'x-request-id', requestId])
    res.end(body)
    metrics.observeRequest('POST', '/graphql', status, started)
    logLine({ requestId, method: 'POST', path: '/graphql', status, started })
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/graphql' || req.method !== 'POST' || !server || config.corsAllowedOrigins.length > 0) return fallback(req, res)
    const headers = headersOf(req.rawHeaders, readHeaders)
    const mediaType = fastPathMediaType(headers.accept)
    const length = headers['content-length']
    if (
      !mediaType ||
      !isFastPathContentType(headers['content-type']) ||
      headers['content-encoding'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      length === undefined ||
      !DIGITS.test(length) ||
      Number(length) > config.bodyLimitBytes ||
      headers.host === undefined ||
      !PLAIN_HOST.test(headers.host) ||
      !hasApiToken(config.apiTokens, headers.authorization)
    ) {
      return fallback(req, res)
    }
    return serve(req, res, server, mediaType, headers).catch((error) => {
      // The connection failed while the body came in: nobody is left to answer.
      logger.debug({ err: error }, 'GraphQL request abandoned')
      res.destroy()
    })
  }
  /** How many requests the direct path answered itself (for tests). */
  return Object.assign(listener, { served: () => served })
}
