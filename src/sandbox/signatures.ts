import type { Context } from 'hono'
import { getKeyId, validateSignature, validateSignatureHeaders, type JWK } from '@interledger/http-signature-utils'
import { SandboxError } from './errors.js'

/**
 * Verifies the HTTP message signature of a request against a client's keys, as Rafiki's auth
 * server does: no usable signature headers -> 401, a key id the client never published -> 400
 * "could not determine client", a signature that does not verify -> 401 "invalid signature".
 * Returns the raw body text (already read, since the digest covers it).
 */
const MAX_SIGNATURE_AGE_SECONDS = 300

export async function verifyRequestSignature(c: Context, keys: JWK[]): Promise<string | undefined> {
  const body = c.req.method === 'GET' || c.req.method === 'DELETE' ? undefined : await c.req.text()
  const headers = Object.fromEntries(c.req.raw.headers.entries())
  // The signature covers @target-uri as the client requested it: http://localhost:<port>/path?query.
  const request = { method: c.req.method, url: c.req.url, headers, body: body || undefined }
  const signatureInput = headers['signature-input']
  if (!headers['signature'] || !signatureInput) {
    throw new SandboxError(401, 'invalid_client', 'signature required')
  }
  const keyId = getKeyId(signatureInput)
  const key = keys.find((k) => k.kid === keyId)
  if (!key) throw new SandboxError(400, 'invalid_client', 'could not determine client')
  // RFC 9635 §7.3.1: a request with a body must sign its content-digest (the library checks the
  // digest only when it is signed), and a signature is fresh (created within the last 5 minutes,
  // by the real clock: the signer's clock, not the test clock).
  const components = /^[^=]+=\(([^)]*)\)/.exec(signatureInput)?.[1] ?? ''
  const created = Number(/;created=(\d+)/.exec(signatureInput)?.[1])
  const unsignedBody = Boolean(body) && !components.split(' ').includes('"content-digest"')
  const stale = !Number.isFinite(created) || Math.abs(Date.now() / 1000 - created) > MAX_SIGNATURE_AGE_SECONDS
  if (unsignedBody || stale || !validateSignatureHeaders(request) || !(await validateSignature(key, request))) {
    throw new SandboxError(401, 'invalid_client', 'invalid signature')
  }
  return body
}

export function parseJsonBody(text: string | undefined): Record<string, unknown> {
  if (!text) return {}
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>
  } catch {
    // fall through: a body that is not a JSON object is a bad request either way
  }
  throw new SandboxError(400, 'invalid_request', 'body must be a JSON object')
}
