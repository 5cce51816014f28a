// A seller's registration changed (new key, new wallet): every process drops what it caches for
// that seller (its signing client, its grant tokens), so that no replica signs with the old key or
// reuses tokens granted to the old identity. The change is announced after its commit
// (`seller_updates`, subject: the seller id): PostgreSQL replicas hear it at once through NOTIFY;
// processes sharing one SQLite file look for sellers updated since their last look every
// SELLER_CHANGES_POLL_MS, which bounds how long they may use stale entries.
import { announce, db, onAnnouncement } from '../db.js'
import { forgetSellerClient } from '../open-payments/clients.js'
import { forgetGrantTokens } from '../open-payments/grant-tokens.js'

export const SELLER_CHANGES_POLL_MS = 2000
/** Slack for the look-back window: updatedAt is stamped by the writing process's clock. */
const CLOCK_SLACK_MS = 1000

function forgetSeller(sellerId: string): void {
  forgetSellerClient(sellerId)
  forgetGrantTokens(sellerId)
}

/** Tells every process (this one included) that `sellerId` changed; call it after the commit. */
export function announceSellerChanged(sellerId: string): void {
  announce('seller_updates', sellerId)
}

/**
 * Drops the cached entries of each seller announced as changed, and of every seller updated since
 * the last look on a poll or a wake-up with no subject (SQLite; a re-opened LISTEN connection).
 * Returns the stop function.
 */
export function forgetChangedSellers(): () => void {
  let lookedAt = new Date()
  const lookForChanges = async () => {
    const now = new Date()
    const changed = await db.seller.findMany({ where: { updatedAt: { gte: new Date(lookedAt.getTime() - CLOCK_SLACK_MS) } }, select: { id: true } })
    lookedAt = now
    for (const { id } of changed) forgetSeller(id)
  }
  return onAnnouncement('seller_updates', (sellerId) => (sellerId ? forgetSeller(sellerId) : void lookForChanges().catch(() => {})), {
    pollMs: SELLER_CHANGES_POLL_MS,
  })
}
