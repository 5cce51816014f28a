// Turns any thrown error into the contract's error body `{ error, code, details? }`. Unexpected
// errors are logged with their stack and answered 500 without internals; a client that hangs up
// mid-body is a 400 and one info line.
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { AppError } from '../errors.js'
import type { Logger } from 'pino'

export function errorBody(error: AppError) {
  return { error: error.message, code: error.code, ...(error.details ? { details: error.details } : {}) }
}

/** The client closed the connection while its body was being read: its mistake, not the service's. */
const clientWentAway = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET'
const bodyNeverArrived = new AppError('BAD_REQUEST', 'The connection closed before the request body arrived')

export function respondWithError(c: Context, error: unknown, logger: Logger): Response {
  if (error instanceof AppError) {
    return c.json(errorBody(error), error.status as ContentfulStatusCode)
  }
  if (clientWentAway(error)) {
    // Anyone who can reach the port can do this at will: one info line, no stack.
    logger.info({ reqId: c.get('requestId') }, 'client closed the connection before its request body arrived')
    return c.json(errorBody(bodyNeverArrived), 400)
  }
  logger.error({ err: error, reqId: c.get('requestId') }, 'unexpected error')
  return c.json(errorBody(new AppError('INTERNAL', 'Internal server error')), 500)
}

/** Parses a JSON request body, answering 400 for anything that is not a JSON object. */
export async function readJsonBody(c: Context): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = JSON.parse(await c.req.text())
  } catch {
    throw new AppError('BAD_REQUEST', 'Malformed JSON body')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('BAD_REQUEST', 'The JSON body must be an object')
  }
  return body as Record<string, unknown>
}
