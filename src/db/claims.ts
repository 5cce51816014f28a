// Claims of due work (src/workers/): ONE statement leases up to `limit` due rows to the caller and
// returns their ids (and the columns asked for), so two processes claiming at once never get the same row. It is a
// compare-and-set on the lease (`leaseUntil` empty or past, checked again by the UPDATE itself),
// and on PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED, so concurrent claimers
// take different rows instead of queueing behind each other. SQLite runs one writer at a time: the
// UPDATE alone is atomic there. A process that dies holding a claim loses it when the lease ends.
// Only src/db.ts imports this module.
import { Prisma } from '../generated/sqlite/client.js'
import type { DatabaseProvider } from './provider.js'
import { columnList } from './sql.js'

export interface DueClaim {
  /** The model whose rows are claimed; each has `id` and `leaseUntil` columns. */
  table: 'Payment' | 'WebhookEvent' | 'WalletCleanup'
  /**
   * Which rows are due, over the table aliased `t`, in SQL both providers speak ("quoted"
   * camelCase columns, enum values as literals); the lease condition is added here.
   */
  due: Prisma.Sql
  /** The order due rows are claimed in, e.g. Prisma.sql`t."nextCheckAt"`. */
  orderBy: Prisma.Sql
  limit: number
  now: Date
  leaseUntil: Date
  /** Columns to return besides "id" (saves reading the claimed rows again). */
  returning?: readonly string[]
  /**
   * Computed values to return besides the columns, each `<expression> AS "<name>"` over the claimed
   * row (the table by its name: "Payment"."sellerId"), e.g. a related row's columns.
   */
  alsoReturning?: Prisma.Sql
}

export function dueClaimStatement(provider: DatabaseProvider, claim: DueClaim): Prisma.Sql {
  const table = Prisma.raw(`"${claim.table}"`)
  const free = (alias: string) => Prisma.raw(`(${alias}"leaseUntil" IS NULL OR ${alias}"leaseUntil" < `)
  const skipLocked = provider === 'postgresql' ? Prisma.raw('FOR UPDATE SKIP LOCKED') : Prisma.empty
  const candidates = Prisma.sql`SELECT t."id" FROM ${table} t
      WHERE (${claim.due}) AND ${free('t.')}${claim.now})
      ORDER BY ${claim.orderBy} LIMIT ${claim.limit} ${skipLocked}`
  // PostgreSQL: `= ANY(ARRAY(...))` picks the candidates first, once, then updates them by primary
  // key. With `IN (...)` its planner may join the candidates to a scan of the whole table instead.
  const chosen = provider === 'postgresql' ? Prisma.sql`= ANY(ARRAY(${candidates}))` : Prisma.sql`IN (${candidates})`
  return Prisma.sql`UPDATE ${table} SET "leaseUntil" = ${claim.leaseUntil}
    WHERE "id" ${chosen} AND ${free('')}${claim.now})
    RETURNING ${Prisma.raw(columnList([...new Set(['id', ...(claim.returning ?? [])])]))}${claim.alsoReturning ? Prisma.sql`, ${claim.alsoReturning}` : Prisma.empty}`
}
