// Reading payments: one by pendingId, and bounded pages filtered by offer, status or seller.
// The hottest reads (the status the marketplace polls, one payment, list pages) are prepared
// statements on the driver's read connection (`Database.readRows`, src/db.ts): Prisma 6.19 compiles every
// query (0.6-1.2 ms per findUnique here, against 0.02 ms for a prepared statement). Their columns
// come from the Prisma models (src/payments/payment-rows.ts), and test/checkout/payment-reads.test.ts
// checks them against prisma/models.prisma and against Prisma's own answers on both databases.
import { columnList, type Payment, type PaymentState, type Prisma } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { asPrismaRow, paymentColumns } from './payment-rows.js'
import { restStatusOf, type RestStatus } from './state.js'

export async function requirePayment(deps: Deps, pendingId: string): Promise<Payment> {
  const payment = await deps.db.prisma.payment.findUnique({ where: { id: pendingId } })
  if (!payment || !payment.redirectUrl) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId })
  return payment
}

/** The columns the REST status and list answers need (the full row carries tokens and JSON). */
export const paymentSummaryColumns = ['id', 'offerId', 'state', 'buyerWalletAddressUrl', 'incomingPaymentId', 'outgoingPaymentId', 'quoteId'] as const satisfies readonly (keyof Payment)[]
export type PaymentSummary = Pick<Payment, (typeof paymentSummaryColumns)[number]>

// A payment whose start has not finished yet is not shown (it may still be rolled back).
const STARTED = '"redirectUrl" IS NOT NULL'
const paymentByIdSql = (columns: readonly string[]) => `SELECT ${columnList(columns)} FROM "Payment" WHERE "id" = $1 AND ${STARTED}`
const summaryByIdSql = paymentByIdSql(paymentSummaryColumns)
const rowByIdSql = paymentByIdSql(paymentColumns)

/** The summary columns of a started payment; null when there is none. */
export async function findPaymentSummary(deps: Deps, pendingId: string): Promise<PaymentSummary | null> {
  const [payment] = await deps.db.readRows<PaymentSummary>(summaryByIdSql, [pendingId])
  return payment ?? null
}

/** The hot read path (the marketplace polls it). */
export async function requirePaymentSummary(deps: Deps, pendingId: string): Promise<PaymentSummary> {
  const payment = await findPaymentSummary(deps, pendingId)
  if (!payment) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId })
  return payment
}

/** The whole row of a started payment, as Prisma's findFirst would answer it; null when there is none. */
export async function findStartedPayment(deps: Deps, pendingId: string): Promise<Payment | null> {
  const [row] = await deps.db.readRows<Record<string, unknown>>(rowByIdSql, [pendingId])
  return row ? asPrismaRow<Payment>(row) : null
}

const statesOfRestStatus = (status: RestStatus) =>
  (Object.keys(restStatusOf) as PaymentState[]).filter((state) => restStatusOf[state] === status)

export interface PaymentFilter {
  offerId?: string
  sellerId?: string
  status?: RestStatus
  states?: PaymentState[]
}

const allStates = Object.keys(restStatusOf) as PaymentState[]

/**
 * The states a filter asks for, each once and in one fixed order: a list with repeats reads no
 * state twice, and every request asking for the same states runs the same prepared statement.
 */
function statesOf(filter: PaymentFilter): PaymentState[] | undefined {
  if (!filter.states) return filter.status ? statesOfRestStatus(filter.status) : undefined
  const asked = new Set(filter.states)
  return allStates.filter((state) => asked.has(state))
}

export function paymentWhere(filter: PaymentFilter): Prisma.PaymentWhereInput {
  const states = statesOf(filter)
  return {
    redirectUrl: { not: null },
    ...(filter.offerId ? { offerId: filter.offerId } : {}),
    ...(filter.sellerId ? { sellerId: filter.sellerId } : {}),
    ...(states ? { state: { in: states } } : {}),
  }
}

/**
 * Up to `take` started payments matching `filter`, in creation order (ids are ULIDs), after the
 * id `after` when given (with `afterMustExist`, none unless a payment has that id, as Prisma's
 * cursors answer). Every page is an index range, so it costs the same at any table size: the
 * primary key, (offerId, id) or (sellerId, id); a filter on states reads each state's own
 * (state, id) range and merges them (a plain `state IN (...)` would sort every row in those states).
 */
export async function readPaymentPage<Columns extends keyof Payment>(
  deps: Deps,
  filter: PaymentFilter,
  page: { after?: string; afterMustExist?: boolean; take: number },
  columns: readonly Columns[],
): Promise<Pick<Payment, Columns>[]> {
  const params: unknown[] = []
  const bind = (value: unknown) => `$${params.push(value)}`
  const states = statesOf(filter)
  const conditions = [
    STARTED,
    ...(filter.offerId ? [`"offerId" = ${bind(filter.offerId)}`] : []),
    ...(filter.sellerId ? [`"sellerId" = ${bind(filter.sellerId)}`] : []),
    ...(page.after !== undefined ? [`"id" > ${bind(page.after)}`] : []),
    ...(page.after !== undefined && page.afterMustExist ? [`EXISTS (SELECT 1 FROM "Payment" WHERE "id" = ${bind(page.after)})`] : []),
  ]
  const limit = bind(page.take)
  const select = (where: string[]) => `SELECT ${columnList(columns)} FROM "Payment" WHERE ${where.join(' AND ')} ORDER BY "id" LIMIT ${limit}`
  let sql: string
  if (!states) sql = select(conditions)
  else if (states.length === 0) sql = select([...conditions, 'FALSE'])
  else if (filter.offerId || states.length === 1) sql = select([...conditions, `"state" IN (${states.map((state) => bind(state)).join(', ')})`])
  else {
    const perState = states.map((state, i) => `SELECT * FROM (${select([...conditions, `"state" = ${bind(state)}`])}) AS "state${i}"`)
    sql = `SELECT * FROM (${perState.join(' UNION ALL ')}) AS "page" ORDER BY "id" LIMIT ${limit}`
  }
  const rows = await deps.db.readRows<Record<string, unknown>>(sql, params)
  return rows.map((row) => asPrismaRow<Pick<Payment, Columns>>(row))
}

/** A page in creation order; `limit + 1` rows are read to know whether more exist. */
export async function listPayments(deps: Deps, filter: PaymentFilter, page: { limit: number; cursor?: string }) {
  const rows = await readPaymentPage(deps, filter, { after: page.cursor, take: page.limit + 1 }, paymentSummaryColumns)
  const payments = rows.slice(0, page.limit)
  return { payments, nextCursor: rows.length > page.limit ? payments.at(-1)!.id : undefined }
}
