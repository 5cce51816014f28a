// REST routes for checkouts, byte-compatible with the contract
// (../shared/contract/payments-service-api.md) plus the extra fields the original answered.
// Each group is made per service, from its deps (src/app.ts mounts them).
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { z } from 'zod'
import type { Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { errorBody, readJsonBody } from '../http/errors.js'
import { PageQuery, parseInput, PENDING_ID_PATTERN, requireIdentifier } from '../validation.js'
import { finishCheckout } from './finish.js'
import { describeProgress, renderFinishPage, renderFinishProblemPage, returnUrlFor } from './finish-page.js'
import { finishSecretMatches } from './finish-secret.js'
import { createIncomingPayment, getWalletProfile } from './incoming.js'
import { debitAmountOf, receiveAmountOf } from './payment-amounts.js'
import { listPayments, requirePaymentSummary, type PaymentSummary } from './queries.js'
import { startCheckout } from './start.js'
import { restStatusOf } from './state.js'

const idempotencyKey = (c: Context) => c.req.header('idempotency-key') || undefined

/** The REST status answer (also served straight from node:http: src/http/direct-reads.ts). */
export const statusJson = (p: PaymentSummary) => ({
  pendingId: p.id,
  offerId: p.offerId,
  status: restStatusOf[p.state],
  buyerWalletAddressUrl: p.buyerWalletAddressUrl,
  incomingPaymentId: p.incomingPaymentId,
  ...(p.outgoingPaymentId ? { outgoingPaymentId: p.outgoingPaymentId } : {}),
  quoteId: p.quoteId,
})

const pendingListJson = (p: PaymentSummary) => {
  const { quoteId: _quoteId, ...rest } = statusJson(p)
  return rest
}

const offerListJson = (p: PaymentSummary) => {
  const { offerId: _offerId, ...rest } = statusJson(p)
  return rest
}

/**
 * The finish answer. Only a hash-verified redirect discloses the outgoing payment; a `result=`
 * redirect (accepted with the finish secret alone) never does.
 */
function finishJson(payment: Payment, verified: boolean) {
  const body = { pendingId: payment.id, status: restStatusOf[payment.state], state: payment.state }
  if (payment.outgoingPaymentJson) return verified ? { ok: true, outgoingPayment: JSON.parse(payment.outgoingPaymentJson), ...body } : { ok: true, ...body }
  if (payment.failureCode) return { ok: false, ...body, error: payment.failureMessage, code: payment.failureCode }
  return { ok: false, ...body }
}

const ListQuery = PageQuery.extend({ status: z.enum(['pending', 'paid', 'failed']).optional() })

/** The finish URLs carry the finish secret: no cache keeps their answers, no page of theirs hands it on in a Referer. */
const keepFinishSecret: MiddlewareHandler = async (c, next) => {
  c.header('cache-control', 'no-store')
  c.header('referrer-policy', 'no-referrer')
  await next()
}

/**
 * The wallet's finish redirect: public (the buyer's browser), verified by its hash (approval) or
 * by the checkout's finish secret (a `result=`), src/payments/finish.ts.
 */
export function finishRoutes(deps: Deps) {
  return new Hono()
    .use('/payments/finish', keepFinishSecret)
    .use('/payments/finish/*', keepFinishSecret)
    .get('/payments/finish', async (c) => {
      const wantsHtml = (c.req.header('accept') ?? '').includes('text/html')
      const query = c.req.query()
      let payment: Payment
      try {
        payment = await finishCheckout(deps, query)
      } catch (error) {
        if (!wantsHtml || !(error instanceof AppError)) throw error
        return c.html(renderFinishProblemPage(errorBody(error).error), error.status as 400)
      }
      if (wantsHtml) {
        // The shop's return URL never gets the secret; the page's own URLs do, once it is verified.
        const target = returnUrlFor(deps, payment)
        const secret = finishSecretMatches(payment.finishSecretHash, query.secret) ? query.secret : undefined
        return target ? c.redirect(target, 303) : c.html(renderFinishPage(deps, payment, secret))
      }
      return c.json(finishJson(payment, query.result === undefined), payment.state === 'FINISHING' ? 202 : 200)
    })
    // The buyer's page after the finish redirect (its clean URL, where it refreshes without scripts),
    // and the progress it polls. Both need the finish secret, and answer only what the page shows.
    .get('/payments/finish/:pendingId', async (c) => {
      const { payment, secret } = await requireCheckout(deps, c.req.param('pendingId'), c.req.query('secret'))
      return c.html(renderFinishPage(deps, payment, secret))
    })
    .get('/payments/finish/:pendingId/progress', async (c) => {
      const { payment } = await requireCheckout(deps, c.req.param('pendingId'), c.req.query('secret'))
      return c.json(describeProgress(deps, payment))
    })
}

/**
 * A checkout that reached the wallet (the only ones a buyer can come back from), opened with its
 * finish secret. No payment, a wrong secret and no secret get the same 404.
 */
async function requireCheckout(deps: Deps, rawPendingId: string, secret: string | undefined): Promise<{ payment: Payment; secret: string }> {
  const pendingId = requireIdentifier('pendingId', rawPendingId)
  const payment = PENDING_ID_PATTERN.test(pendingId) ? await deps.db.prisma.payment.findUnique({ where: { id: pendingId } }) : null
  if (!payment?.redirectUrl || !finishSecretMatches(payment.finishSecretHash, secret)) {
    throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId })
  }
  return { payment, secret }
}

export function paymentRoutes(deps: Deps) {
  return new Hono()
    .post('/offers/:offerId/quotes/start', async (c) => {
      const body = await readJsonBody(c)
      const payment = await startCheckout(deps, { ...body, offerId: requireIdentifier('offerId', c.req.param('offerId')), idempotencyKey: idempotencyKey(c) })
      return c.json({
        success: true,
        pendingId: payment.id,
        redirectUrl: payment.redirectUrl,
        paymentUrl: payment.redirectUrl,
        incomingPaymentId: payment.incomingPaymentId,
        quoteId: payment.quoteId,
        amount: payment.amount,
        assetCode: payment.assetCode,
        // Additions to the original contract: the quote the buyer approves, both sides of the price.
        debitAmount: debitAmountOf(payment),
        receiveAmount: receiveAmountOf(payment),
        quoteExpiresAt: payment.quoteExpiresAt?.toISOString() ?? null,
      })
    })
    .get('/payments/pending', async (c) => {
      const query = parseInput(ListQuery, c.req.query())
      const page = await listPayments(deps, { status: query.status }, query)
      return c.json({ payments: page.payments.map(pendingListJson), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) })
    })
    .get('/payments/:pendingId/status', async (c) => c.json(statusJson(await requirePaymentSummary(deps, requireIdentifier('pendingId', c.req.param('pendingId'))))))
    .get('/offers/:offerId/payments', async (c) => {
      const offerId = requireIdentifier('offerId', c.req.param('offerId'))
      const query = parseInput(ListQuery, c.req.query())
      const page = await listPayments(deps, { offerId, status: query.status }, query)
      return c.json({ offerId, payments: page.payments.map(offerListJson), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) })
    })
    .post('/api/payments/incoming', async (c) => {
      const body = await readJsonBody(c)
      const record = await createIncomingPayment(deps, { ...body, idempotencyKey: idempotencyKey(c) })
      return c.json({
        success: true,
        paymentId: record.incomingPaymentId,
        payment_id: record.incomingPaymentId,
        data: {
          incomingPaymentId: record.incomingPaymentId,
          walletAddress: record.walletAddress,
          amount: record.amount,
          assetCode: record.assetCode,
          assetScale: record.assetScale,
        },
      })
    })
    .post('/api/wallet/profile', async (c) => c.json({ success: true, wallet: await getWalletProfile(deps, await readJsonBody(c)) }))
}
