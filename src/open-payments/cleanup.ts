// Ending things at the wallets after a checkout ended without being paid: cancelling the buyer's
// grant and closing (completing) the seller's incoming payment. Each answers a domain outcome, so
// callers never read HTTP statuses:
//  - done:        the wallet did it now (grant cancelled, incoming payment completed);
//  - alreadyGone: the wallet says there is nothing left to end (grant unknown or already revoked:
//                 404 or invalid_continuation; incoming payment already completed or expired: 409 "wrong state", or deleted
//                 after expiring empty: 404, as Rafiki does);
//  - failed:      anything else (5xx, timeout, unreachable, refused token); `reason` is safe to log
//                 and show: the wallet's status and GNAP code, never its message or a token.
import { OpenPaymentsClientError } from '@interledger/open-payments'
import type { Seller } from '../db.js'
import { AppError } from '../errors.js'
import { getSellerClient } from './clients.js'
import { isTimeout } from './errors.js'
import { withGrantToken } from './grant-tokens.js'
import { getWalletAddress } from './wallets.js'

export type CancelGrantOutcome = { outcome: 'cancelled' } | { outcome: 'alreadyGone' } | { outcome: 'failed'; reason: string }
export type CloseIncomingPaymentOutcome = { outcome: 'closed' } | { outcome: 'alreadyGone' } | { outcome: 'failed'; reason: string }

/** A short, secret-free description of why a wallet call failed. */
function failureReason(error: unknown): string {
  if (error instanceof OpenPaymentsClientError && typeof error.status === 'number') {
    return `wallet answered ${error.status}${error.code ? ` ${error.code}` : ''}`
  }
  if (isTimeout(error)) return 'wallet timed out'
  if (error instanceof OpenPaymentsClientError) return 'wallet answered invalidly'
  // Reading the seller's wallet address maps its own failures (WALLET_TIMEOUT, WALLET_UNREACHABLE …).
  if (error instanceof AppError) return `wallet not reached (${error.code})`
  return 'wallet not reached'
}

const statusOf = (error: unknown) => (error instanceof OpenPaymentsClientError ? error.status : undefined)

/** GNAP grant cancel: DELETE the continue URI with the continuation token (RFC 9635 §6.4). */
export async function cancelGrant(seller: Seller, grant: { continueUri: string; continueToken: string }): Promise<CancelGrantOutcome> {
  try {
    const client = await getSellerClient(seller)
    await client.grant.cancel({ url: grant.continueUri, accessToken: grant.continueToken })
    return { outcome: 'cancelled' }
  } catch (error) {
    // 404: no such grant (already revoked, or never continued past a rejection). invalid_continuation:
    // the wallet no longer takes this continuation, so there is nothing left to cancel with it.
    if (statusOf(error) === 404 || (error instanceof OpenPaymentsClientError && error.code === 'invalid_continuation')) {
      return { outcome: 'alreadyGone' }
    }
    return { outcome: 'failed', reason: failureReason(error) }
  }
}

/**
 * Completes the seller's incoming payment (POST <id>/complete): the wallet stops accepting money
 * for it and stops listing it as open. Uses the seller's cached incoming-payment grant token.
 */
export async function closeIncomingPayment(seller: Seller, incomingPaymentUrl: string): Promise<CloseIncomingPaymentOutcome> {
  try {
    const client = await getSellerClient(seller)
    const wallet = await getWalletAddress(client, seller.walletAddressUrl, 'seller walletAddressUrl')
    const closed = await withGrantToken(client, seller.id, wallet.authServer, 'incoming-payment', (accessToken) =>
      client.incomingPayment.complete({ url: incomingPaymentUrl, accessToken }),
    )
    return closed.completed ? { outcome: 'closed' } : { outcome: 'failed', reason: 'wallet answered completed: false' }
  } catch (error) {
    const status = statusOf(error)
    if (status === 404 || status === 409) return { outcome: 'alreadyGone' }
    return { outcome: 'failed', reason: failureReason(error) }
  }
}
