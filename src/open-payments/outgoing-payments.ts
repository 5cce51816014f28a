// Outgoing payments on the buyer's wallet, with the access token of the buyer's continued grant
// (the caller keeps it fresh: access-tokens.ts).
import type { AuthenticatedClient, OutgoingPayment } from '@interledger/open-payments'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { callWallet, type WalletFailure } from './outcomes.js'

interface OnBuyerWallet {
  resourceServer: string
  accessToken: string
  buyerWalletAddressUrl: string
}

export type OutgoingPaymentCreation =
  | { outcome: 'created'; outgoingPayment: OutgoingPayment }
  /** The wallet refused the quote: expired (its clock decides) or otherwise invalid (400). */
  | { outcome: 'quoteExpired' }
  /** The grant does not allow it (403): spent, or smaller than the quote. */
  | { outcome: 'grantSpent' }
  | WalletFailure

/** Pays `quoteId` from the buyer's wallet; `metadata` carries the pendingId for crash recovery. */
export async function createOutgoingPayment(
  deps: Deps,
  client: AuthenticatedClient,
  args: OnBuyerWallet & { quoteId: string; metadata: Record<string, unknown> },
): Promise<OutgoingPaymentCreation> {
  const created = await callWallet(deps, 'creating the outgoing payment', () =>
    client.outgoingPayment.create(
      { url: args.resourceServer, accessToken: args.accessToken },
      { walletAddress: args.buyerWalletAddressUrl, quoteId: args.quoteId, metadata: args.metadata },
    ),
  )
  if (created.outcome === 'answered') return { outcome: 'created', outgoingPayment: created.value }
  if (created.outcome === 'refused' && created.walletStatus === 400) return { outcome: 'quoteExpired' }
  if (created.outcome === 'refused' && created.walletStatus === 403) return { outcome: 'grantSpent' }
  return created
}

export type OutgoingPaymentSearch = { outcome: 'found'; outgoingPayment: OutgoingPayment } | { outcome: 'notFound' } | WalletFailure

const MAX_PAGES = 100

/**
 * An outgoing payment this service already made under the grant (crash recovery), found by the
 * `pendingId` in its metadata. `list` answers page by page: read them all.
 */
export async function findOutgoingPayment(deps: Deps, client: AuthenticatedClient, args: OnBuyerWallet & { pendingId: string }): Promise<OutgoingPaymentSearch> {
  const step = 'looking for an outgoing payment already made'
  let cursor: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await callWallet(deps, step, () =>
      client.outgoingPayment.list(
        { url: args.resourceServer, accessToken: args.accessToken, walletAddress: args.buyerWalletAddressUrl },
        { first: 100, 'wallet-address': args.buyerWalletAddressUrl, ...(cursor ? { cursor } : {}) },
      ),
    )
    if (listed.outcome !== 'answered') return listed
    const found = listed.value.result.find((op) => op.metadata?.pendingId === args.pendingId)
    if (found) return { outcome: 'found', outgoingPayment: found }
    if (!listed.value.pagination.hasNextPage || !listed.value.pagination.endCursor) return { outcome: 'notFound' }
    cursor = listed.value.pagination.endCursor
  }
  return { outcome: 'unavailable', error: new AppError('WALLET_REFUSED', 'The buyer wallet lists too many outgoing payments to search', { step }) }
}

export type OutgoingPaymentRead = { outcome: 'read'; outgoingPayment: OutgoingPayment } | WalletFailure

export async function readOutgoingPayment(deps: Deps, client: AuthenticatedClient, args: { url: string; accessToken: string }): Promise<OutgoingPaymentRead> {
  const read = await callWallet(deps, 'reading the outgoing payment', () => client.outgoingPayment.get({ url: args.url, accessToken: args.accessToken }))
  return read.outcome === 'answered' ? { outcome: 'read', outgoingPayment: read.value } : read
}
