// Requests node's HTTP parser refuses before the app sees them (headers or URL over
// --max-http-header-size, a malformed request line, conflicting lengths, a request timeout).
// Node answers these itself with an empty body; this answers the documented JSON shape instead,
// then closes the connection as node does. Nothing of the request (which may carry a token) is
// echoed or logged.
import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { AppError, type ErrorCode } from '../errors.js'
import type { Logger } from 'pino'
import { errorBody } from './errors.js'

const refusals: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ['REQUEST_HEADERS_TOO_LARGE', 'Request line or headers too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ['PAYLOAD_TOO_LARGE', 'Chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: ['REQUEST_TIMEOUT', 'The request took too long to arrive'],
}

function responseFor(errorCode: string | undefined): string {
  const [code, message] = refusals[errorCode ?? ''] ?? ['BAD_REQUEST', 'Malformed HTTP request']
  const error = new AppError(code, message)
  const body = JSON.stringify(errorBody(error))
  return [
    `HTTP/1.1 ${error.status} ${code.replaceAll('_', ' ')}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n')
}

/** Replaces node's default 'clientError' answer (an empty 400/408/413/431) with the documented shape. */
export function answerClientErrors(server: Server, logger: Logger) {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: { headersSent: boolean } }) => {
    logger.info({ code: error.code }, 'malformed HTTP request refused')
    // Node's own condition: a response in flight on this connection must not be corrupted.
    if (error.code !== 'ECONNRESET' && socket.writable && !socket._httpMessage?.headersSent) {
      socket.end(responseFor(error.code), () => socket.destroy())
    } else {
      socket.destroy()
    }
  })
}
