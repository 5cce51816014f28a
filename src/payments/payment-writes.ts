// The insert that creates a payment (src/payments/start.ts) and the update every payment change
// makes (src/payments/transitions.ts), as prepared statements on the database's writer
// (Database.writer, src/db/write-connection.ts) instead of Prisma queries: Prisma 6.19 compiles
// each of its queries (about 1-2 ms of CPU for an update returning the row, 2-3 ms for the
// insert), and a checkout creates its payment once and changes it half a dozen times. The columns
// are the Prisma models' (src/payments/payment-rows.ts: a write naming anything else is refused
// before any SQL), and test/checkout/payment-writes.test.ts checks the rows they return against
// Prisma's on both databases.
import { columnList, type Payment, type PaymentState } from '../db.js'
import { paymentColumns } from './payment-rows.js'

type Column = Exclude<keyof Payment, 'id' | 'createdAt' | 'updatedAt'>

/** New values for some columns (undefined: left as it is), or an increment of an integer column. */
export type PaymentChange = { [K in Column]?: Payment[K] | (number extends Payment[K] ? { increment: number } : never) }

/** Further conditions the row must still meet, each an equality (null: the column is empty). */
export type PaymentCondition = { [K in Column]?: Payment[K] }

const knownColumns = new Set<string>(paymentColumns)
const fixedColumns = new Set<string>(['id', 'createdAt', 'updatedAt'] satisfies (keyof Payment)[])
const returning = columnList(paymentColumns)

/** The columns a new payment is created with; the others take the models' defaults. */
export type NewPayment = Pick<Payment, 'id' | 'offerId' | 'sellerId' | 'buyerWalletAddressUrl' | 'amount' | 'assetCode' | 'assetScale' | 'createdAt'> &
  Partial<Pick<Payment, 'returnUrl' | 'idempotencyKey' | 'requestFingerprint' | 'buyerAuthServer'>>

/**
 * `INSERT INTO "Payment" ... RETURNING` every column. The models' defaults that Prisma would fill
 * are the database's own (state, counters) except updatedAt (@updatedAt), set here as Prisma sets
 * it. A unique idempotency key already taken fails it (isUniqueViolation in src/db.ts).
 */
export function paymentInsert(payment: NewPayment): { sql: string; params: unknown[] } {
  const values = Object.entries({ ...payment, updatedAt: new Date() }).filter(([, value]) => value !== undefined)
  for (const [name] of values) if (!knownColumns.has(name)) throw new Error(`Payment has no column "${name}" to write`)
  const columns = columnList(values.map(([name]) => name))
  const placeholders = values.map((_, i) => `$${i + 1}`).join(', ')
  return { sql: `INSERT INTO "Payment" (${columns}) VALUES (${placeholders}) RETURNING ${returning}`, params: values.map(([, value]) => value) }
}

/**
 * PostgreSQL (Database.changesWithInserts): paymentUpdate and the insert `insertSql` builds from
 * the changed row (src/webhooks/outbox.ts paymentEventInsertSql), in one statement: a
 * data-modifying WITH, which runs to completion whether or not its rows are read, in the
 * statement's own transaction. Returns the changed row, every column (none when the compare-and-set failed).
 */
export function paymentChangeWithInsert(
  id: string,
  from: readonly PaymentState[],
  change: PaymentChange,
  also: PaymentCondition,
  insertSql: (changed: string, param: (value: unknown) => string) => string,
): { sql: string; params: unknown[] } {
  const update = paymentUpdate(id, from, change, also)
  const param = (value: unknown) => `$${update.params.push(value)}`
  return { sql: `WITH "changed" AS (${update.sql}), "inserted" AS (${insertSql('"changed"', param)}) SELECT * FROM "changed"`, params: update.params }
}

/**
 * `UPDATE "Payment" SET ... WHERE id and state in `from` (and `also`) RETURNING` every column: the
 * compare-and-set of a payment change. Sets updatedAt to the system time, as Prisma's @updatedAt
 * does for the writes that stay Prisma queries. A statement per shape of change (the columns
 * named), so each is prepared once.
 */
export function paymentUpdate(id: string, from: readonly PaymentState[], change: PaymentChange, also: PaymentCondition): { sql: string; params: unknown[] } {
  if (from.length === 0) throw new Error('A payment change needs the states it may start from')
  const params: unknown[] = []
  const param = (value: unknown) => `$${params.push(value)}`
  const column = (name: string) => {
    if (!knownColumns.has(name) || fixedColumns.has(name)) throw new Error(`Payment has no column "${name}" to write`)
    return `"${name}"`
  }
  const set: string[] = []
  for (const [name, value] of Object.entries(change)) {
    if (value === undefined) continue
    const increment = typeof value === 'object' && value !== null && !(value instanceof Date) ? (value as { increment: number }).increment : undefined
    set.push(increment === undefined ? `${column(name)} = ${param(value)}` : `${column(name)} = ${column(name)} + ${param(increment)}`)
  }
  set.push(`"updatedAt" = ${param(new Date())}`)
  const where = [`"id" = ${param(id)}`, `"state" IN (${from.map((state) => param(state)).join(', ')})`]
  for (const [name, value] of Object.entries(also)) {
    if (value !== undefined) where.push(value === null ? `${column(name)} IS NULL` : `${column(name)} = ${param(value)}`)
  }
  return { sql: `UPDATE "Payment" SET ${set.join(', ')} WHERE ${where.join(' AND ')} RETURNING ${returning}`, params }
}
