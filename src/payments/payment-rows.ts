// Payment rows as the driver reads and writes them, for the service's prepared statements outside
// the ORM (src/payments/queries.ts reads, src/payments/payment-writes.ts writes, the workers' claims). The columns come
// from the Prisma models (the generated datamodel), so they cannot drift from prisma/models.prisma;
// test/checkout/payment-reads.test.ts and payment-writes.test.ts compare the answers with Prisma's
// own on both databases.
import type { DueClaim, Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { getDatamodel } from '../generated/pothos-types.js'

const paymentFields = getDatamodel().datamodel.models.Payment.fields

/** Every column of a Payment row, in the models' order (relations are not columns). */
export const paymentColumns = paymentFields.filter((field) => field.kind !== 'object').map((field) => field.name) as (keyof Payment)[]

const dateColumns = paymentFields.filter((field) => field.type === 'DateTime').map((field) => field.name as keyof Payment)

const HAS_OFFSET = /(Z|[+-]\d\d:?\d\d)$/i

/**
 * A DateTime as a driver returns it: a Date (pg), or the text Prisma's SQLite adapter stores
 * (ISO 8601 with an offset; a database default has none and is UTC).
 */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value
  if (typeof value === 'number') return new Date(value)
  const text = String(value)
  // The end alone is tested: a regex anchored at `$` would try every position of the text first.
  return new Date(HAS_OFFSET.test(text.slice(-6)) ? text : `${text.replace(' ', 'T')}Z`)
}

/** A payment row as the driver gave it, in the shape Prisma answers (DateTime columns as Date). */
export function asPrismaRow<T>(row: Record<string, unknown>): T {
  for (const column of dateColumns) if (column in row && row[column] !== null) row[column] = toDate(row[column])
  return row as T
}

/** Leases due payments to this process (Database.claimDueRows on Payment), each returned whole and Prisma-shaped: no second read. */
export async function claimDuePayments(deps: Deps, claim: Omit<DueClaim, 'table' | 'returning'>): Promise<Payment[]> {
  const rows = await deps.db.claimDueRows<Record<string, unknown> & { id: string }>({ ...claim, table: 'Payment', returning: paymentColumns })
  return rows.map((row) => asPrismaRow<Payment>(row))
}
