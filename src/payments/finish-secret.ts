// The finish secret: 32 random bytes per checkout, put in the finish URI the service gives the
// buyer's wallet. The wallet sends the browser back to that URI with its own parameters appended
// (../shared/open-payments/PROTOCOL.md), so only the wallet and the buyer's browser hold it: a
// `result=` redirect (which carries no hash) must present it to change the payment, and the buyer's
// finish page and its progress answer open only with it. Only its SHA-256 is stored; it is never
// logged, never sent in a webhook and never answered through GraphQL.
import crypto from 'node:crypto'

const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest()

/** A new secret (base64url, URL-safe as it is) and the hash to store (hex). */
export function createFinishSecret(): { secret: string; hash: string } {
  const secret = crypto.randomBytes(32).toString('base64url')
  return { secret, hash: sha256(secret).toString('hex') }
}

/** Whether `presented` is the secret behind `storedHash`, compared in constant time. A payment without one matches nothing. */
export function finishSecretMatches(storedHash: string | null, presented: string | undefined): presented is string {
  if (!storedHash || presented === undefined) return false
  const expected = Buffer.from(storedHash, 'hex')
  const actual = sha256(presented)
  return expected.length === actual.length && crypto.timingSafeEqual(expected, actual)
}
