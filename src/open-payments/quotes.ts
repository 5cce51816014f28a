// Quotes on a buyer's wallet, with the cached quote grant token at the buyer's auth server.
import type { AuthenticatedClient, Quote } from '@interledger/open-payments'
import type { Deps } from '../deps.js'
import { withGrantToken } from './grant-tokens.js'
import { callWallet, type WalletFailure } from './outcomes.js'

export type QuoteCreation = { outcome: 'created'; quote: Quote } | WalletFailure

/** A quote on the buyer's wallet paying `receiver` (an incoming payment URL) in full. */
export async function createQuote(
  deps: Deps,
  client: AuthenticatedClient,
  sellerId: string,
  buyer: { id: string; authServer: string; resourceServer: string },
  receiver: string,
): Promise<QuoteCreation> {
  const created = await withGrantToken(deps, client, sellerId, buyer.authServer, 'quote', (accessToken) =>
    callWallet(deps, 'creating the quote on the buyer wallet', () =>
      client.quote.create({ url: buyer.resourceServer, accessToken }, { walletAddress: buyer.id, receiver, method: 'ilp' }),
    ),
  )
  return created.outcome === 'answered' ? { outcome: 'created', quote: created.value } : created
}
