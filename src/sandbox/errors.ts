import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

// GNAP and Open Payments both answer errors as { error: { code, description } }; the SDK reads
// exactly these two fields into OpenPaymentsClientError.code and .description.
export function sendError(c: Context, status: ContentfulStatusCode, code: string, description: string): Response {
  return c.json({ error: { code, description } }, status)
}

/** A refusal carried up from a check to the route that answers it. */
export class SandboxError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description)
  }
}

export function sendSandboxError(c: Context, err: SandboxError): Response {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value)
  return sendError(c, err.status, err.code, err.description)
}

/** Runs a route handler, turning a SandboxError it throws into the error answer. */
export async function answer(c: Context, handle: () => Promise<Response>): Promise<Response> {
  try {
    return await handle()
  } catch (err) {
    if (err instanceof SandboxError) return sendSandboxError(c, err)
    throw err
  }
}
