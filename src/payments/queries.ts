// Reading payments: one by pendingId, and bounded pages filtered by offer, status or seller.
import { db, type Payment, type PaymentState, Prisma } from '../db.js'
import { AppError } from '../errors.js'
import { restStatusOf, type RestStatus } from './state.js'

export async function requirePayment(pendingId: string): Promise<Payment> {
  const payment = await db.payment.findUnique({ where: { id: pendingId } })
  if (!payment || !payment.redirectUrl) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId })
  return payment
}

/** The columns the REST status and list answers need (the full row carries tokens and JSON). */
export const paymentSummary = {
  id: true,
  offerId: true,
  state: true,
  buyerWalletAddressUrl: true,
  incomingPaymentId: true,
  outgoingPaymentId: true,
  quoteId: true,
} satisfies Prisma.PaymentSelect
export type PaymentSummary = Prisma.PaymentGetPayload<{ select: typeof paymentSummary }>

/**
 * The hot read path (the marketplace polls it): one raw statement. Prisma 6.19's query compiler
 * costs about 1 ms per typed query on this machine; this statement about 0.25 ms
 * (bench/RESULTS.md). Quoted identifiers keep it valid SQL for SQLite and PostgreSQL alike.
 */
export async function requirePaymentSummary(pendingId: string): Promise<PaymentSummary> {
  const [payment] = await db.$queryRaw<PaymentSummary[]>`
    SELECT "id", "offerId", "state", "buyerWalletAddressUrl", "incomingPaymentId", "outgoingPaymentId", "quoteId"
    FROM "Payment" WHERE "id" = ${pendingId} AND "redirectUrl" IS NOT NULL`
  if (!payment) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId })
  return payment
}

const statesOfRestStatus = (status: RestStatus) =>
  (Object.keys(restStatusOf) as PaymentState[]).filter((state) => restStatusOf[state] === status)

export interface PaymentFilter {
  offerId?: string
  sellerId?: string
  status?: RestStatus
  states?: PaymentState[]
}

export function paymentWhere(filter: PaymentFilter): Prisma.PaymentWhereInput {
  const states = filter.states ?? (filter.status ? statesOfRestStatus(filter.status) : undefined)
  return {
    // A payment whose start has not finished yet is not shown (it may still be rolled back).
    redirectUrl: { not: null },
    ...(filter.offerId ? { offerId: filter.offerId } : {}),
    ...(filter.sellerId ? { sellerId: filter.sellerId } : {}),
    ...(states ? { state: { in: states } } : {}),
  }
}

/** A page in creation order (ids are ULIDs); `limit + 1` rows are read to know whether more exist. */
export async function listPayments(filter: PaymentFilter, page: { limit: number; cursor?: string }) {
  const rows = await db.payment.findMany({
    where: { ...paymentWhere(filter), ...(page.cursor ? { id: { gt: page.cursor } } : {}) },
    select: paymentSummary,
    orderBy: { id: 'asc' },
    take: page.limit + 1,
  })
  const payments = rows.slice(0, page.limit)
  return { payments, nextCursor: rows.length > page.limit ? payments.at(-1)!.id : undefined }
}
