// A payment's outgoing-payment access token (from its continued grant), stored encrypted and kept
// fresh by the one rotation mechanism (src/open-payments/access-tokens.ts); a rotated token is
// stored before it is used.
import type { AuthenticatedClient } from '@interledger/open-payments'
import type { Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { freshAccessToken, type AccessToken } from '../open-payments/access-tokens.js'
import type { WalletFailure } from '../open-payments/outcomes.js'

/** The columns that store `token` on a payment. */
export function storedToken(deps: Deps, token: AccessToken) {
  return { accessToken: deps.secrets.encrypt(token.value), accessTokenManageUrl: token.manageUrl, accessTokenExpiresAt: token.expiresAt }
}

export async function outgoingAccessToken(deps: Deps, client: AuthenticatedClient, payment: Payment): Promise<{ outcome: 'ready'; value: string } | WalletFailure> {
  const value = deps.secrets.decrypt(payment.accessToken!)
  // A token stored without a manage URL or expiry cannot be rotated: use it as it is.
  if (!payment.accessTokenManageUrl || !payment.accessTokenExpiresAt) return { outcome: 'ready', value }
  const fresh = await freshAccessToken(deps, client, { value, manageUrl: payment.accessTokenManageUrl, expiresAt: payment.accessTokenExpiresAt })
  if (fresh.outcome === 'rotated') await deps.db.prisma.payment.update({ where: { id: payment.id }, data: storedToken(deps, fresh.token) })
  return fresh.outcome === 'fresh' || fresh.outcome === 'rotated' ? { outcome: 'ready', value: fresh.token.value } : fresh
}
