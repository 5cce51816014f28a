// Non-interactive grant tokens (incoming-payment at the seller's auth server, quote at the
// buyer's) are cached per seller and auth server, rotated at their `manage` URL shortly before
// they expire, and replaced by a new grant when rotation fails or a wallet answers 401.
import { isFinalizedGrantWithAccessToken, type AuthenticatedClient, type GrantRequest } from '@interledger/open-payments'
import { AppError } from '../errors.js'
import { logger } from '../logger.js'
import { toWalletError, walletAnswer } from './errors.js'

type TokenType = 'incoming-payment' | 'quote'

interface CachedToken {
  value: string
  manage: string
  expiresAt: number
}

const ROTATE_BEFORE_EXPIRY_MS = 60_000
type AccessItem = NonNullable<GrantRequest['access_token']>['access'][number]
const accessFor: Record<TokenType, AccessItem> = {
  'incoming-payment': { type: 'incoming-payment', actions: ['create', 'read', 'complete'] },
  quote: { type: 'quote', actions: ['create', 'read'] },
}

const cache = new Map<string, Promise<CachedToken>>()

async function requestToken(client: AuthenticatedClient, authServer: string, type: TokenType): Promise<CachedToken> {
  let grant
  try {
    grant = await client.grant.request({ url: authServer }, { access_token: { access: [accessFor[type]] } })
  } catch (error) {
    throw toWalletError(error, `requesting a ${type} grant`)
  }
  if (!isFinalizedGrantWithAccessToken(grant)) {
    throw new AppError('WALLET_REFUSED', `The wallet asked for interaction on a ${type} grant`, { step: `requesting a ${type} grant` })
  }
  return toCached(grant.access_token)
}

function toCached(token: { value: string; manage: string; expires_in?: number }): CachedToken {
  // No expires_in means the token does not expire; still refresh it daily.
  return { value: token.value, manage: token.manage, expiresAt: Date.now() + (token.expires_in ?? 86_400) * 1000 }
}

async function refresh(client: AuthenticatedClient, authServer: string, type: TokenType, current?: CachedToken) {
  if (current) {
    try {
      return toCached((await client.token.rotate({ url: current.manage, accessToken: current.value })).access_token)
    } catch (error) {
      logger.info({ type, authServer, wallet: walletAnswer(error) }, 'token rotation failed; requesting a new grant')
    }
  }
  return requestToken(client, authServer, type)
}

async function currentToken(client: AuthenticatedClient, key: string, authServer: string, type: TokenType): Promise<CachedToken> {
  const cached = cache.get(key)
  const token = cached ? await cached.catch(() => undefined) : undefined
  if (token && token.expiresAt - Date.now() > ROTATE_BEFORE_EXPIRY_MS) return token
  // One refresh at a time per key: concurrent callers share the promise.
  const next = refresh(client, authServer, type, token)
  cache.set(key, next)
  next.catch(() => cache.get(key) === next && cache.delete(key))
  return next
}

/**
 * Runs `call` with a cached access token of `type` for `authServer`; when the wallet answers 401
 * (token revoked or expired early) the token is dropped and the call is tried once more.
 */
export async function withGrantToken<T>(
  client: AuthenticatedClient,
  sellerId: string,
  authServer: string,
  type: TokenType,
  call: (accessToken: string) => Promise<T>,
): Promise<T> {
  const key = `${sellerId}|${authServer}|${type}`
  const token = await currentToken(client, key, authServer, type)
  try {
    return await call(token.value)
  } catch (error) {
    if (walletAnswer(error).status !== 401) throw error
    cache.delete(key)
    const fresh = await currentToken(client, key, authServer, type)
    return call(fresh.value)
  }
}

export function forgetGrantTokens(sellerId: string): void {
  for (const key of cache.keys()) if (key.startsWith(`${sellerId}|`)) cache.delete(key)
}
