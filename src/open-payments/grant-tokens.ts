// Non-interactive grant tokens (incoming-payment at the seller's auth server, quote at the
// buyer's) are cached per seller and auth server, kept fresh by access-tokens.ts, and replaced by a
// new grant when rotation fails or a wallet answers 401. The cache is the service's
// (deps.wallets.grantTokens, bounded in wallets.ts).
import type { AuthenticatedClient, GrantRequest } from '@interledger/open-payments'
import type { LRUCache } from 'lru-cache'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { accessTokenOf, freshAccessToken, isAboutToExpire, type AccessToken } from './access-tokens.js'
import { callWallet, type Called, type WalletFailure } from './outcomes.js'
import { loadSdk } from './sdk.js'

type TokenType = 'incoming-payment' | 'quote'

type AccessItem = NonNullable<GrantRequest['access_token']>['access'][number]
const accessFor: Record<TokenType, AccessItem> = {
  'incoming-payment': { type: 'incoming-payment', actions: ['create', 'read', 'complete'] },
  quote: { type: 'quote', actions: ['create', 'read'] },
}

type Obtained = { outcome: 'obtained'; token: AccessToken } | WalletFailure
/** The cached tokens, keyed `sellerId|authServer|type`. */
export type GrantTokenCache = LRUCache<string, Promise<Obtained>>

async function requestToken(deps: Deps, client: AuthenticatedClient, authServer: string, type: TokenType): Promise<Obtained> {
  const step = `requesting a ${type} grant`
  const grant = await callWallet(deps, step, () => client.grant.request({ url: authServer }, { access_token: { access: [accessFor[type]] } }))
  if (grant.outcome !== 'answered') return grant
  if (!(await loadSdk()).isFinalizedGrantWithAccessToken(grant.value)) {
    return { outcome: 'refused', error: new AppError('WALLET_REFUSED', `The wallet asked for interaction on a ${type} grant`, { step }) }
  }
  return { outcome: 'obtained', token: accessTokenOf(deps, grant.value.access_token) }
}

async function refresh(deps: Deps, client: AuthenticatedClient, authServer: string, type: TokenType, current?: AccessToken): Promise<Obtained> {
  if (current) {
    const fresh = await freshAccessToken(deps, client, current)
    if (fresh.outcome === 'fresh' || fresh.outcome === 'rotated') return { outcome: 'obtained', token: fresh.token }
    deps.logger.info({ type, authServer, walletStatus: fresh.walletStatus }, 'token rotation failed; requesting a new grant')
  }
  return requestToken(deps, client, authServer, type)
}

async function currentToken(deps: Deps, client: AuthenticatedClient, key: string, authServer: string, type: TokenType, forceNew: boolean): Promise<Obtained> {
  const cache = deps.wallets.grantTokens
  const cached = forceNew ? undefined : await cache.get(key)
  const token = cached?.outcome === 'obtained' ? cached.token : undefined
  if (token && !isAboutToExpire(deps, token)) return cached!
  // One refresh at a time per key: concurrent callers share the promise.
  const next = refresh(deps, client, authServer, type, forceNew ? undefined : token)
  cache.set(key, next)
  next.then((result) => result.outcome !== 'obtained' && cache.get(key) === next && cache.delete(key))
  return next
}

/**
 * Runs `call` with a cached access token of `type` for `authServer`; when the wallet answers 401
 * (token revoked or expired early) the token is dropped and the call is tried once more.
 */
export async function withGrantToken<T>(
  deps: Deps,
  client: AuthenticatedClient,
  sellerId: string,
  authServer: string,
  type: TokenType,
  call: (accessToken: string) => Promise<Called<T>>,
): Promise<Called<T>> {
  const key = `${sellerId}|${authServer}|${type}`
  const cached = await currentToken(deps, client, key, authServer, type, false)
  if (cached.outcome !== 'obtained') return cached
  const result = await call(cached.token.value)
  if (result.outcome !== 'refused' || result.walletStatus !== 401) return result
  const fresh = await currentToken(deps, client, key, authServer, type, true)
  if (fresh.outcome !== 'obtained') return fresh
  return call(fresh.token.value)
}

/** Drops every token cached for `sellerId` (wallets.ts: forgetSeller). */
export function forgetGrantTokens(cache: GrantTokenCache, sellerId: string): void {
  for (const key of cache.keys()) if (key.startsWith(`${sellerId}|`)) cache.delete(key)
}
