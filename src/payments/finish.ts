// Finishing a checkout: the buyer's browser comes back from the wallet. Verify the redirect (the
// hash of an approval; the finish secret of a `result=`, src/payments/finish-secret.ts), claim the
// payment with a compare-and-set (exactly one request or process continues the grant), continue
// the grant once, then create the outgoing payment.
// A claim that dies half-way is resumed by the resume-finishes job (src/workers/resume-finishes.ts).
import type { OutgoingPayment } from '@interledger/open-payments'
import { z } from 'zod'
import type { Payment } from '../db.js'
import { crashPoint } from '../crash-points.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { verifyFinishHash } from '../open-payments/finish-hash.js'
import { continueGrant } from '../open-payments/grants.js'
import { createOutgoingPayment, findOutgoingPayment, type OutgoingPaymentCreation } from '../open-payments/outgoing-payments.js'
import { createQuote } from '../open-payments/quotes.js'
import { readWalletAddress } from '../open-payments/wallet-addresses.js'
import type { SellerIdentity } from '../open-payments/wallets.js'
import { outgoingAccessToken, storedToken } from './access-token.js'
import { finishSecretMatches } from './finish-secret.js'
import { FIRST_CHECK_DELAY_MS } from './settlement.js'
import { requireSeller, sellerIdentityOf, sellerIdentitySelect } from '../sellers/service.js'
import { parseInput, PENDING_ID_PATTERN } from '../validation.js'
import type { PaymentChange, PaymentCondition } from './payment-writes.js'
import { transitionPayment, updatePayment } from './transitions.js'

/** How long a request waits (real time: it sleeps) for the one that claimed the finish. */
const WAIT_FOR_OTHER_FINISH_MS = 15_000

export const FinishInput = z.object({
  pendingId: z.string().regex(PENDING_ID_PATTERN, 'must be a pendingId (ULID)'),
  /** The finish secret the service put in the finish URI (kept by the wallet when it appends its parameters). */
  secret: z.string().max(100).optional(),
  hash: z.string().max(200).optional(),
  interact_ref: z.string().min(1).max(200).optional(),
  result: z.string().max(100).optional(),
  message: z.string().max(500).optional(),
})
export type FinishInput = z.input<typeof FinishInput>

/** What each `result=` a wallet can send means for the payment (../shared/open-payments/PROTOCOL.md). */
function outcomeOfResult(result: string, message?: string) {
  switch (result) {
    case 'grant_rejected':
      return { state: 'REJECTED', failureCode: 'GRANT_REJECTED', failureMessage: 'The buyer rejected the payment in their wallet' } as const
    case 'grant_invalid':
      return { state: 'FAILED', failureCode: 'GRANT_INVALID', failureMessage: 'The wallet finished the interaction before the buyer decided' } as const
    case 'invalid_interaction':
      return message === 'interaction expired'
        ? ({ state: 'EXPIRED', failureCode: 'CONSENT_EXPIRED', failureMessage: 'The buyer did not approve in time' } as const)
        : ({ state: 'FAILED', failureCode: 'INTERACTION_FAILED', failureMessage: 'The wallet could not start the approval' } as const)
    case 'unknown_interaction':
      return { state: 'FAILED', failureCode: 'GRANT_REVOKED', failureMessage: 'The grant was revoked before the buyer decided' } as const
    case 'request_denied':
      return { state: 'FAILED', failureCode: 'REQUEST_DENIED', failureMessage: 'The wallet denied the payment request' } as const
    default:
      return undefined
  }
}

/**
 * What the checks of a finish read (all text: the driver's values are Prisma's), and the seller
 * whose client completes it, read afresh with them; the claim's update returns the whole row.
 */
const finishCheckColumns = ['id', 'redirectUrl', 'finishSecretHash', 'clientNonce', 'finishNonce', 'buyerAuthServer'] as const satisfies readonly (keyof Payment)[]
const finishCheckSql = `SELECT ${finishCheckColumns.map((column) => `p."${column}"`).join(', ')}, ${sellerIdentitySelect('s')}
  FROM "Payment" p JOIN "Seller" s ON s."id" = p."sellerId" WHERE p."id" = $1`

export async function finishCheckout(deps: Deps, rawInput: unknown): Promise<Payment> {
  const { prisma } = deps.db
  const input = parseInput(FinishInput, rawInput)
  // A prepared statement on the read connection (committed rows only, as a start that returned a
  // redirectUrl has committed it): Prisma would compile this findUnique on every finish (~1 ms).
  const [payment] = await deps.db.readRows<Pick<Payment, (typeof finishCheckColumns)[number]> & Record<string, unknown>>(finishCheckSql, [input.pendingId])
  if (!payment || !payment.redirectUrl) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId: input.pendingId })

  if (input.result !== undefined) {
    // A `result=` has no hash: only the finish secret shows it came back through the buyer's wallet.
    // Without it anyone who saw the pendingId could end the checkout (and have its grant cancelled).
    if (!finishSecretMatches(payment.finishSecretHash, input.secret)) {
      throw new AppError('INVALID_FINISH_SECRET', "The finish link does not carry this checkout's secret: its result was not accepted and nothing was changed")
    }
    const outcome = outcomeOfResult(input.result, input.message)
    if (!outcome) throw new AppError('INVALID_FINISH', `Unknown result "${input.result}"`, { field: 'result' })
    const changed = await transitionPayment(deps, payment.id, ['AWAITING_APPROVAL'], { ...outcome, finishedAt: deps.clock.now() })
    return changed ?? prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })
  }

  if (!input.hash || !input.interact_ref) {
    throw new AppError('INVALID_FINISH', 'The finish redirect needs hash and interact_ref (or result)', {
      missing: [!input.hash && 'hash', !input.interact_ref && 'interact_ref'].filter(Boolean),
    })
  }
  const hashOk = verifyFinishHash(input.hash, {
    clientNonce: deps.secrets.decrypt(payment.clientNonce!),
    finishNonce: payment.finishNonce!,
    interactRef: input.interact_ref,
    grantEndpointUrl: payment.buyerAuthServer!,
  })
  // The hash covers the client nonce, which only the service and the wallet know: proof enough,
  // with or without the finish secret.
  if (!hashOk) throw new AppError('INVALID_FINISH_HASH', 'The finish hash does not match: this redirect did not come from the wallet')

  const claimed = await transitionPayment(deps, payment.id, ['AWAITING_APPROVAL'], {
    state: 'FINISHING',
    interactRef: input.interact_ref,
    leaseUntil: new Date(deps.clock.now().getTime() + deps.config.settlement.finishLeaseMs),
  })
  // A refresh, a double redirect or a concurrent request: answer from what the winner stored.
  if (!claimed) return waitWhileFinishing(deps, payment.id)
  return completeFinishing(deps, claimed, sellerIdentityOf(payment))
}

async function waitWhileFinishing(deps: Deps, id: string): Promise<Payment> {
  const deadline = Date.now() + WAIT_FOR_OTHER_FINISH_MS
  for (;;) {
    const payment = await deps.db.prisma.payment.findUniqueOrThrow({ where: { id } })
    if (payment.state !== 'FINISHING' || Date.now() > deadline) return payment
    await sleep(100)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function fail(deps: Deps, payment: Payment, failureCode: string, failureMessage: string, also: PaymentCondition = {}): Promise<Payment> {
  const failed = await transitionPayment(deps, payment.id, ['FINISHING'], {
    state: 'FAILED',
    failureCode,
    failureMessage,
    leaseUntil: null,
    nextCheckAt: null,
    finishedAt: deps.clock.now(),
  }, also)
  if (failed) deps.logger.warn({ pendingId: payment.id, failureCode }, 'checkout failed')
  return failed ?? deps.db.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })
}

/**
 * A wallet that failed while finishing: the payment stays FINISHING and is tried again on
 * FINISH_RETRY_SCHEDULE (by the resume-finishes job), then given up as FAILED / WALLET_UNAVAILABLE.
 * The wallet's error is thrown for the request that was waiting (502/504), unless this was the
 * last try.
 */
async function retryLater(deps: Deps, payment: Payment, error: AppError): Promise<Payment> {
  const schedule = deps.config.settlement.finishRetryScheduleMs
  if (payment.checkAttempts >= schedule.length) {
    return fail(deps, payment, 'WALLET_UNAVAILABLE', `The buyer wallet kept failing while the payment was being finished: ${error.message}`)
  }
  const now = deps.clock.now()
  await updatePayment(deps, payment.id, ['FINISHING'], {
    checkAttempts: { increment: 1 },
    lastCheckedAt: now,
    nextCheckAt: new Date(now.getTime() + schedule[payment.checkAttempts]),
    leaseUntil: null,
  })
  deps.logger.warn({ pendingId: payment.id, code: error.code, attempt: payment.checkAttempts + 1 }, 'finishing failed at the wallet; will retry')
  throw error
}

/**
 * Runs the rest of a claimed finish: continue the grant (unless a previous attempt stored its
 * token), then create the outgoing payment (unless one already exists under the grant), with the
 * client of the payment's seller (`seller` when the caller has just read it, else read now).
 */
export async function completeFinishing(deps: Deps, claimed: Payment, seller?: SellerIdentity): Promise<Payment> {
  const { finishLeaseMs } = deps.config.settlement
  // Keep the claim while this process works on it: a finish can take a while (the wallet's
  // continue `wait`, too_fast retries, slow wallets), and an expired lease lets the settlement
  // worker resume the same payment. Only a process that died stops renewing.
  const renewal = setInterval(() => {
    deps.db.prisma.payment
      .updateMany({ where: { id: claimed.id, state: 'FINISHING' }, data: { leaseUntil: new Date(deps.clock.now().getTime() + finishLeaseMs) } })
      .catch((error) => deps.logger.warn({ pendingId: claimed.id, err: error }, 'could not renew the finish lease'))
  }, finishLeaseMs / 3)
  try {
    return await runClaimedFinish(deps, claimed, seller ?? (await requireSeller(deps, claimed.sellerId)))
  } finally {
    clearInterval(renewal)
  }
}

async function runClaimedFinish(deps: Deps, claimed: Payment, seller: SellerIdentity): Promise<Payment> {
  let payment = claimed
  const client = await deps.wallets.sellerClient(seller)
  const resumed = Boolean(payment.accessToken)

  if (!payment.accessToken) {
    const continued = await continueGrant(deps, client, {
      continueUri: payment.continueUri!,
      continueToken: deps.secrets.decrypt(payment.continueToken!),
      interactRef: payment.interactRef!,
      requestedAt: payment.grantRequestedAt!,
      waitSeconds: payment.continueWaitSeconds ?? 0,
    })
    switch (continued.outcome) {
      case 'refused':
        // Continuation is single-use: a refusal can mean that another holder of this claim (a
        // request still alive when its lease ran out and the resume-finishes job resumed it) has
        // just continued. If it stored the token, it pays: failing here would mark FAILED a
        // payment that then goes through. Whichever of the two conditional updates comes first wins.
        return fail(deps, payment, 'GRANT_CONTINUATION_FAILED', 'The buyer wallet refused to continue the approved grant', { accessToken: null })
      case 'unavailable':
        return retryLater(deps, payment, continued.error)
      case 'notApproved':
        return fail(deps, payment, 'GRANT_NOT_APPROVED', 'The buyer wallet did not issue an access token for the payment')
    }
    crashPoint(deps.config, 'after-grant-continued')
    // Stored before the outgoing payment is created: continuation is single-use.
    const stored = await updatePayment(deps, payment.id, ['FINISHING'], {
      ...storedToken(deps, continued.accessToken),
      leaseUntil: new Date(deps.clock.now().getTime() + deps.config.settlement.finishLeaseMs),
    })
    if (!stored) return deps.db.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })
    crashPoint(deps.config, 'after-token-stored')
    payment = stored
  }

  // A resumed finish may come long after the token was issued: it is rotated when about to expire.
  const token = await outgoingAccessToken(deps, client, payment)
  if (token.outcome !== 'ready') return retryLater(deps, payment, token.error)
  const buyer = await readWalletAddress(deps, client, payment.buyerWalletAddressUrl, 'buyerWalletAddressUrl')
  if (buyer.outcome !== 'found') return retryLater(deps, payment, buyer.error)
  const onBuyerWallet = { resourceServer: buyer.wallet.resourceServer, accessToken: token.value, buyerWalletAddressUrl: payment.buyerWalletAddressUrl }
  const findMade = () => findOutgoingPayment(deps, client, { ...onBuyerWallet, pendingId: payment.id })

  let outgoing: OutgoingPayment | undefined
  if (resumed) {
    const found = await findMade()
    if (found.outcome === 'found') outgoing = found.outgoingPayment
    else if (found.outcome !== 'notFound') return retryLater(deps, payment, found.error)
  }

  let quoteUpdate: PaymentChange = {}
  if (!outgoing) {
    const pay = (quoteId: string) =>
      createOutgoingPayment(deps, client, { ...onBuyerWallet, quoteId, metadata: { pendingId: payment.id, offerId: payment.offerId } })
    // The buyer took longer than the quote lives: quote again for the same incoming payment, and
    // pay only if the new price still fits what the buyer approved (the grant's debitAmount limit).
    const payWithFreshQuote = async (): Promise<OutgoingPaymentCreation | { outcome: 'tooDear' }> => {
      const quote = await createQuote(deps, client, payment.sellerId, buyer.wallet, payment.incomingPaymentId!)
      if (quote.outcome !== 'created') return { outcome: 'unavailable', error: quote.error }
      const { debitAmount, receiveAmount, expiresAt, id } = quote.quote
      if (BigInt(debitAmount.value) > BigInt(payment.debitAmount!) || debitAmount.assetCode !== payment.debitAssetCode || debitAmount.assetScale !== payment.debitAssetScale) return { outcome: 'tooDear' }
      quoteUpdate = { quoteId: id, debitAmount: debitAmount.value, receiveAmount: receiveAmount.value, quoteExpiresAt: expiresAt ? new Date(expiresAt) : null }
      return pay(id)
    }
    const expiredHere = payment.quoteExpiresAt !== null && payment.quoteExpiresAt.getTime() <= deps.clock.now().getTime() + 1000
    let created = expiredHere ? await payWithFreshQuote() : await pay(payment.quoteId!)
    // The wallet's clock decides: a quote it calls expired is quoted again, once.
    if (!expiredHere && created.outcome === 'quoteExpired') created = await payWithFreshQuote()
    switch (created.outcome) {
      case 'created':
        outgoing = created.outgoingPayment
        break
      case 'tooDear':
        return fail(deps, payment, 'QUOTE_EXPIRED', 'The quote expired and the new price exceeds what the buyer approved')
      case 'quoteExpired':
        return fail(deps, payment, 'QUOTE_EXPIRED', 'The buyer wallet refused the quote (expired or invalid)')
      case 'grantSpent': {
        // A spent grant may mean an earlier attempt created the payment and died before recording
        // it. If that cannot be known now, stay FINISHING rather than fail a payment that may have gone through.
        const found = await findMade()
        if (found.outcome === 'notFound') return fail(deps, payment, 'GRANT_SPENT', 'The buyer wallet refused the payment: the grant is spent or too small')
        if (found.outcome !== 'found') return retryLater(deps, payment, found.error)
        outgoing = found.outgoingPayment
        break
      }
      case 'refused':
        return fail(deps, payment, 'OUTGOING_PAYMENT_REFUSED', 'The buyer wallet refused to create the outgoing payment')
      case 'unavailable':
        return retryLater(deps, payment, created.error)
    }
  }

  crashPoint(deps.config, 'after-outgoing-payment-created')
  const processing = await transitionPayment(deps, payment.id, ['FINISHING'], {
    ...quoteUpdate,
    state: 'PROCESSING',
    outgoingPaymentId: outgoing.id,
    outgoingPaymentJson: JSON.stringify(outgoing),
    sentAmount: outgoing.sentAmount.value,
    leaseUntil: null,
    // The settlement schedule starts afresh (the attempts counted so far were the finish's).
    checkAttempts: 0,
    nextCheckAt: new Date(deps.clock.now().getTime() + FIRST_CHECK_DELAY_MS),
  })
  deps.logger.info({ pendingId: payment.id, outgoingPaymentId: outgoing.id }, 'outgoing payment created')
  return processing ?? deps.db.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })
}

/**
 * Claims a finishing payment whose lease expired (its process died, or it waits for its next try)
 * and completes it. `dueOnly`: only once its retry time has come (the worker); recheckPayment
 * asks now.
 */
export async function resumeFinishing(deps: Deps, id: string, { dueOnly = true } = {}): Promise<Payment | null> {
  const { prisma } = deps.db
  const now = deps.clock.now()
  const { count } = await prisma.payment.updateMany({
    where: {
      id,
      state: 'FINISHING',
      OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }],
      ...(dueOnly ? { AND: [{ OR: [{ nextCheckAt: null }, { nextCheckAt: { lte: now } }] }] } : {}),
    },
    data: { leaseUntil: new Date(now.getTime() + deps.config.settlement.finishLeaseMs) },
  })
  if (count === 0) return null
  return completeFinishing(deps, await prisma.payment.findUniqueOrThrow({ where: { id } }))
}
