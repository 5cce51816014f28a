// Bearer-token authentication for the marketplace's calls. Tokens are compared as SHA-256 digests
// with crypto.timingSafeEqual, so neither a token's content nor its length leaks through timing.
import crypto from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { AppError } from '../errors.js'

const digest = (s: string) => crypto.createHash('sha256').update(s).digest()

/** The configured tokens' digests, computed once per list of tokens rather than per request. */
const tokenDigests = new WeakMap<readonly string[], Buffer[]>()

export function isAuthorized(header: string | undefined, tokens: readonly string[]): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? '')
  if (!match) return false
  const presented = digest(match[1])
  let expected = tokenDigests.get(tokens)
  if (!expected) tokenDigests.set(tokens, (expected = tokens.map(digest)))
  let ok = false
  for (const token of expected) ok = crypto.timingSafeEqual(presented, token) || ok
  return ok
}

/** True when the Authorization header carries one of `apiTokens`, or none is configured (development only: config refuses it in production). */
export const hasApiToken = (apiTokens: readonly string[], header: string | undefined): boolean => apiTokens.length === 0 || isAuthorized(header, apiTokens)

/** Requires a valid bearer token (hasApiToken). */
export function requireApiToken(apiTokens: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    if (!hasApiToken(apiTokens, c.req.header('authorization'))) {
      c.header('WWW-Authenticate', 'Bearer')
      throw new AppError('UNAUTHENTICATED', 'Missing or invalid bearer token')
    }
    await next()
  }
}
