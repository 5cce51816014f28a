// Creating Open Payments resources with the cached non-interactive grant tokens, errors mapped to
// the service's codes. Checkout, re-quoting and standalone incoming payments all go through here.
import type { AuthenticatedClient, IncomingPayment, Quote, WalletAddress } from '@interledger/open-payments'
import { config } from '../config.js'
import { toWalletError } from './errors.js'
import { withGrantToken } from './grant-tokens.js'

/** An incoming payment of `amount` minor units in the seller wallet's own asset, expiring per config. */
export async function createIncomingPayment(
  client: AuthenticatedClient,
  sellerId: string,
  sellerWallet: WalletAddress,
  amount: bigint,
  metadata: Record<string, unknown>,
): Promise<IncomingPayment> {
  const expiresAt = new Date(Date.now() + config.openPayments.incomingPaymentLifetimeMs).toISOString()
  return withGrantToken(client, sellerId, sellerWallet.authServer, 'incoming-payment', (accessToken) =>
    client.incomingPayment.create(
      { url: sellerWallet.resourceServer, accessToken },
      {
        walletAddress: sellerWallet.id,
        incomingAmount: { value: amount.toString(), assetCode: sellerWallet.assetCode, assetScale: sellerWallet.assetScale },
        expiresAt,
        metadata,
      },
    ),
  ).catch((error) => {
    throw toWalletError(error, 'creating the incoming payment on the seller wallet')
  })
}

/** A quote on the buyer's wallet paying `receiver` (an incoming payment URL) in full. */
export async function createQuote(
  client: AuthenticatedClient,
  sellerId: string,
  buyer: { id: string; authServer: string; resourceServer: string },
  receiver: string,
): Promise<Quote> {
  return withGrantToken(client, sellerId, buyer.authServer, 'quote', (accessToken) =>
    client.quote.create({ url: buyer.resourceServer, accessToken }, { walletAddress: buyer.id, receiver, method: 'ilp' }),
  ).catch((error) => {
    throw toWalletError(error, 'creating the quote on the buyer wallet')
  })
}
