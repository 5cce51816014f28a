// A seller's registration changed (new key, new wallet): every process drops what it caches for
// that seller (its signing client, its grant tokens: deps.wallets), so that no replica signs with
// the old key or reuses tokens granted to the old identity. The change is announced after its
// commit (`seller_updates`, subject: the seller id): PostgreSQL replicas hear it at once through
// NOTIFY; processes sharing one SQLite file look for sellers updated since their last look every
// SELLER_CHANGES_POLL_MS, which bounds how long they may use stale entries.
import type { Deps } from '../deps.js'

export const SELLER_CHANGES_POLL_MS = 2000
/** Slack for the look-back window: updatedAt is stamped by the writing process's clock. */
const CLOCK_SLACK_MS = 1000

/**
 * A service's bookkeeping of seller changes (deps.sellerChanges): the change (seller id → its
 * updatedAt) each seller's entries were last dropped for, within the look-back window: a poll drops
 * a seller's entries once per change, not at every look that still sees it, and never again for a
 * change this service made and announced itself.
 */
export interface SellerChanges {
  readonly handled: Map<string, number>
}

export function createSellerChanges(): SellerChanges {
  return { handled: new Map() }
}

/** Tells every process (this one included) that `seller` changed; call it after the commit. */
export function announceSellerChanged(deps: Deps, seller: { id: string; updatedAt: Date }): void {
  deps.sellerChanges.handled.set(seller.id, seller.updatedAt.getTime())
  deps.db.announce('seller_updates', seller.id)
}

/**
 * Drops the cached entries of each seller announced as changed, and of every seller updated since
 * the last look on a poll or a wake-up with no subject (SQLite; a re-opened LISTEN connection).
 * Returns the stop function.
 *
 * The look-back window is on the system clock, not deps.clock: it is compared with updatedAt, which
 * Prisma stamps with the system clock of the writing process.
 */
export function forgetChangedSellers(deps: Deps): () => void {
  const { handled } = deps.sellerChanges
  let lookedAt = new Date()
  const lookForChanges = async () => {
    const now = new Date()
    const since = new Date(lookedAt.getTime() - CLOCK_SLACK_MS)
    const changed = await deps.db.prisma.seller.findMany({ where: { updatedAt: { gte: since } }, select: { id: true, updatedAt: true } })
    lookedAt = now
    for (const [id, at] of handled) if (at < since.getTime()) handled.delete(id)
    for (const { id, updatedAt } of changed) {
      if (handled.get(id) === updatedAt.getTime()) continue
      handled.set(id, updatedAt.getTime())
      deps.wallets.forgetSeller(id)
    }
  }
  return deps.db.onAnnouncement('seller_updates', (sellerId) => (sellerId ? deps.wallets.forgetSeller(sellerId) : void lookForChanges().catch(() => {})), {
    pollMs: SELLER_CHANGES_POLL_MS,
  })
}
