// Verifies the `hash` a wallet appends to the finish redirect (GNAP, RFC 9635 §4.2.3):
//   SHA-256(clientNonce \n finishNonce \n interactRef \n grantEndpointUrl)
// Rafiki sends standard base64 with padding; the RFC and Open Payments docs say URL-safe base64
// without padding; a hop may turn `+` into a space; Rafiki before 2.1 hashed the grant endpoint
// with a trailing slash. Accept all of those, compare the raw 32 bytes in constant time.
import crypto from 'node:crypto'

export interface FinishHashInput {
  clientNonce: string
  finishNonce: string
  interactRef: string
  grantEndpointUrl: string
}

export function computeFinishHash(input: FinishHashInput): Buffer {
  const text = [input.clientNonce, input.finishNonce, input.interactRef, input.grantEndpointUrl].join('\n')
  return crypto.createHash('sha256').update(text).digest()
}

/** Decodes either base64 alphabet, padded or not; null when it is not 32 bytes of base64. */
export function decodeFinishHash(received: string): Buffer | null {
  const normalised = received.trim().replace(/ /g, '+').replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')
  if (!/^[A-Za-z0-9+/]{43}$/.test(normalised)) return null
  const bytes = Buffer.from(normalised, 'base64')
  return bytes.length === 32 ? bytes : null
}

export function verifyFinishHash(received: string, input: FinishHashInput): boolean {
  const presented = decodeFinishHash(received)
  if (!presented) return false
  const url = input.grantEndpointUrl
  const variants = url.endsWith('/') ? [url, url.replace(/\/+$/, '')] : [url, `${url}/`]
  let ok = false
  for (const grantEndpointUrl of variants) {
    ok = crypto.timingSafeEqual(presented, computeFinishHash({ ...input, grantEndpointUrl })) || ok
  }
  return ok
}
