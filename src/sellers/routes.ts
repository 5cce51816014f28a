// REST routes for sellers, byte-compatible with the contract (GET /sellers, POST /sellers).
import { Hono } from 'hono'
import type { Seller } from '../db.js'
import type { Deps } from '../deps.js'
import { readJsonBody } from '../http/errors.js'
import { PageQuery, parseInput } from '../validation.js'
import { listSellers, upsertSeller } from './service.js'

const sellerJson = (s: Seller) => ({
  id: s.id,
  walletAddressUrl: s.walletAddressUrl,
  keyId: s.keyId,
  privateKeyPath: s.privateKeyPath,
})

export function sellerRoutes(deps: Deps): Hono {
  return new Hono()
    .get('/sellers', async (c) => {
      const page = parseInput(PageQuery, c.req.query())
      const sellers = await listSellers(deps, { limit: page.limit + 1, after: page.cursor })
      const more = sellers.length > page.limit
      const shown = sellers.slice(0, page.limit)
      return c.json({ sellers: shown.map(sellerJson), ...(more ? { nextCursor: shown.at(-1)!.id } : {}) })
    })
    .post('/sellers', async (c) => {
      const { seller } = await upsertSeller(deps, await readJsonBody(c))
      // The original service answered 201 for registration and update alike; callers rely on it.
      return c.json({ ok: true, id: seller.id }, 201)
    })
}
