// GNAP access tokens, and the one way they are kept fresh: rotated at their `manage` URL shortly
// before they expire (tokens live 10 minutes at the reference wallet, while a payment may need one
// much later: crash recovery, settlement checks). Used for the cached non-interactive tokens
// (grant-tokens.ts) and for each payment's stored outgoing-payment token (src/payments/).
import type { AuthenticatedClient } from '@interledger/open-payments'
import type { Deps } from '../deps.js'
import { callWallet, type WalletFailure } from './outcomes.js'

const ROTATE_BEFORE_EXPIRY_MS = 60_000
/** A token without `expires_in` does not expire; it is still rotated daily. */
const NO_EXPIRY_ROTATE_AFTER_S = 86_400

export interface AccessToken {
  value: string
  manageUrl: string
  expiresAt: Date
}

/** The SDK's `access_token` of a grant or rotation answer, expiring by the service's clock. */
export function accessTokenOf(deps: Deps, token: { value: string; manage: string; expires_in?: number }): AccessToken {
  return { value: token.value, manageUrl: token.manage, expiresAt: new Date(deps.clock.now().getTime() + (token.expires_in ?? NO_EXPIRY_ROTATE_AFTER_S) * 1000) }
}

export function isAboutToExpire(deps: Deps, token: { expiresAt: Date }): boolean {
  return token.expiresAt.getTime() - deps.clock.now().getTime() <= ROTATE_BEFORE_EXPIRY_MS
}

export type Freshened = { outcome: 'fresh'; token: AccessToken } | { outcome: 'rotated'; token: AccessToken } | WalletFailure

/** `token` itself while it has more than a minute left; otherwise a rotated one. */
export async function freshAccessToken(deps: Deps, client: AuthenticatedClient, token: AccessToken): Promise<Freshened> {
  if (!isAboutToExpire(deps, token)) return { outcome: 'fresh', token }
  const rotated = await callWallet(deps, 'rotating an access token', () => client.token.rotate({ url: token.manageUrl, accessToken: token.value }))
  if (rotated.outcome !== 'answered') return rotated
  return { outcome: 'rotated', token: accessTokenOf(deps, rotated.value.access_token) }
}
