// The buyer-side access token of a continued outgoing-payment grant: stored encrypted, rotated at
// its manage URL shortly before it expires (tokens live 10 minutes at the reference wallet, while a
// payment may need it much later: crash recovery, settlement checks).
import type { AuthenticatedClient } from '@interledger/open-payments'
import { db, type Payment } from '../db.js'
import { decryptSecret, encryptSecret } from '../secrets.js'

const ROTATE_BEFORE_EXPIRY_MS = 60_000

export async function outgoingAccessToken(client: AuthenticatedClient, payment: Payment): Promise<string> {
  const token = decryptSecret(payment.accessToken!)
  const expiresAt = payment.accessTokenExpiresAt?.getTime() ?? Infinity
  if (expiresAt - Date.now() > ROTATE_BEFORE_EXPIRY_MS || !payment.accessTokenManageUrl) return token
  const next = (await client.token.rotate({ url: payment.accessTokenManageUrl, accessToken: token })).access_token
  await db.payment.update({
    where: { id: payment.id },
    data: {
      accessToken: encryptSecret(next.value),
      accessTokenManageUrl: next.manage,
      accessTokenExpiresAt: new Date(Date.now() + (next.expires_in ?? 86_400) * 1000),
    },
  })
  return next.value
}
