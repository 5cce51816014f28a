// Incoming payments on a seller's wallet, with the seller's cached incoming-payment grant token.
import type { AuthenticatedClient, IncomingPaymentWithPaymentMethods, WalletAddress } from '@interledger/open-payments'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { withGrantToken } from './grant-tokens.js'
import { callWallet, type WalletFailure } from './outcomes.js'

export type IncomingPaymentCreation = { outcome: 'created'; incomingPayment: IncomingPaymentWithPaymentMethods } | WalletFailure

/** An incoming payment of `amount` minor units in the seller wallet's own asset, expiring per config. */
export async function createIncomingPayment(
  deps: Deps,
  client: AuthenticatedClient,
  sellerId: string,
  sellerWallet: WalletAddress,
  amount: bigint,
  metadata: Record<string, unknown>,
): Promise<IncomingPaymentCreation> {
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.openPayments.incomingPaymentLifetimeMs).toISOString()
  const created = await withGrantToken(deps, client, sellerId, sellerWallet.authServer, 'incoming-payment', (accessToken) =>
    callWallet(deps, 'creating the incoming payment on the seller wallet', () =>
      client.incomingPayment.create(
        { url: sellerWallet.resourceServer, accessToken },
        {
          walletAddress: sellerWallet.id,
          incomingAmount: { value: amount.toString(), assetCode: sellerWallet.assetCode, assetScale: sellerWallet.assetScale },
          expiresAt,
          metadata,
        },
      ),
    ),
  )
  return created.outcome === 'answered' ? { outcome: 'created', incomingPayment: created.value } : created
}

export type IncomingPaymentRead = { outcome: 'read'; incomingPayment: IncomingPaymentWithPaymentMethods } | WalletFailure

/** The seller's incoming payment at `url`, as the seller's wallet reports it now. */
export async function readIncomingPayment(deps: Deps, client: AuthenticatedClient, sellerId: string, sellerWallet: WalletAddress, url: string): Promise<IncomingPaymentRead> {
  const read = await withGrantToken(deps, client, sellerId, sellerWallet.authServer, 'incoming-payment', (accessToken) =>
    callWallet(deps, 'reading the incoming payment on the seller wallet', () => client.incomingPayment.get({ url, accessToken })),
  )
  return read.outcome === 'answered' ? { outcome: 'read', incomingPayment: read.value } : read
}

export type IncomingPaymentClosed = { outcome: 'closed' } | { outcome: 'alreadyGone' } | WalletFailure

/**
 * Completes the seller's incoming payment (POST <id>/complete): the wallet stops accepting money
 * for it and stops listing it as open. `alreadyGone`: already completed or expired (409 wrong
 * state), or deleted after expiring empty (404), as Rafiki answers.
 */
export async function closeIncomingPayment(deps: Deps, client: AuthenticatedClient, sellerId: string, sellerWallet: WalletAddress, url: string): Promise<IncomingPaymentClosed> {
  const closed = await withGrantToken(deps, client, sellerId, sellerWallet.authServer, 'incoming-payment', (accessToken) =>
    callWallet(deps, 'closing the incoming payment on the seller wallet', () => client.incomingPayment.complete({ url, accessToken })),
  )
  if (closed.outcome === 'answered') {
    if (closed.value.completed) return { outcome: 'closed' }
    return { outcome: 'unavailable', error: new AppError('WALLET_REFUSED', 'The wallet answered closing the incoming payment with completed: false') }
  }
  if (closed.outcome === 'refused' && (closed.walletStatus === 404 || closed.walletStatus === 409)) return { outcome: 'alreadyGone' }
  return closed
}
