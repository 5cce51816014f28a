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

/**
 * The change (seller id → its updatedAt) each seller's entries were last dropped for, within the
 * look-back window: a poll drops a seller's entries once per change, not at every look that still
 * sees it, and never again for a change this process made and announced itself.
 */
const handled = new Map<string, number>()

function forgetSeller(sellerId: string): void {
  forgetSellerClient(sellerId)
  forgetGrantTokens(sellerId)
}

/** Tells every process (this one included) that `sellerId` changed; call it after the commit. */
export function announceSellerChanged(seller: { id: string; updatedAt: Date }): void {
  handled.set(seller.id, seller.updatedAt.getTime())
  announce('seller_updates', seller.id)
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
    const since = new Date(lookedAt.getTime() - CLOCK_SLACK_MS)
    const changed = await db.seller.findMany({ where: { updatedAt: { gte: since } }, select: { id: true, updatedAt: true } })
    lookedAt = now
    for (const [id, at] of handled) if (at < since.getTime()) handled.delete(id)
    for (const { id, updatedAt } of changed) {
      if (handled.get(id) === updatedAt.getTime()) continue
      handled.set(id, updatedAt.getTime())
      forgetSeller(id)
    }
  }
  return onAnnouncement('seller_updates', (sellerId) => (sellerId ? forgetSeller(sellerId) : void lookForChanges().catch(() => {})), {
    pollMs: SELLER_CHANGES_POLL_MS,
  })
}
