// Finishing a checkout: the buyer's browser comes back from the wallet. Verify the redirect
// (hash first), claim the payment with a compare-and-set (exactly one request or process
// continues the grant), continue the grant once, then create the outgoing payment.
// A claim that dies half-way is resumed by the settlement worker (resumeFinishing).
import type { AuthenticatedClient, OutgoingPayment } from '@interledger/open-payments'
import { z } from 'zod'
import { config } from '../config.js'
import { db, Prisma, type Payment } from '../db.js'
import { crashPoint } from '../crash-points.js'
import { AppError } from '../errors.js'
import { logger } from '../logger.js'
import { getSellerClient } from '../open-payments/clients.js'
import { toWalletError, walletAnswer } from '../open-payments/errors.js'
import { verifyFinishHash } from '../open-payments/finish-hash.js'
import { createQuote } from '../open-payments/resources.js'
import { decryptSecret, encryptSecret } from '../secrets.js'
import { getWalletAddress } from '../open-payments/wallets.js'
import { outgoingAccessToken } from './access-token.js'
import { requireSeller } from '../sellers/service.js'
import { parseInput } from '../validation.js'
import { transitionPayment } from './transitions.js'

const WAIT_FOR_OTHER_FINISH_MS = 15_000

export const FinishInput = z.object({
  pendingId: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a pendingId (ULID)'),
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

export async function finishCheckout(rawInput: unknown): Promise<Payment> {
  const input = parseInput(FinishInput, rawInput)
  const payment = await db.payment.findUnique({ where: { id: input.pendingId } })
  if (!payment || !payment.redirectUrl) throw new AppError('PAYMENT_NOT_FOUND', 'Payment not found', { pendingId: input.pendingId })

  if (input.result !== undefined) {
    const outcome = outcomeOfResult(input.result, input.message)
    if (!outcome) throw new AppError('INVALID_FINISH', `Unknown result "${input.result}"`, { field: 'result' })
    const changed = await transitionPayment(payment.id, ['AWAITING_APPROVAL'], { ...outcome, finishedAt: new Date() })
    return changed ?? payment
  }

  if (!input.hash || !input.interact_ref) {
    throw new AppError('INVALID_FINISH', 'The finish redirect needs hash and interact_ref (or result)', {
      missing: [!input.hash && 'hash', !input.interact_ref && 'interact_ref'].filter(Boolean),
    })
  }
  const hashOk = verifyFinishHash(input.hash, {
    clientNonce: decryptSecret(payment.clientNonce!),
    finishNonce: payment.finishNonce!,
    interactRef: input.interact_ref,
    grantEndpointUrl: payment.buyerAuthServer!,
  })
  if (!hashOk) throw new AppError('INVALID_FINISH_HASH', 'The finish hash does not match: this redirect did not come from the wallet')

  const claimed = await transitionPayment(payment.id, ['AWAITING_APPROVAL'], {
    state: 'FINISHING',
    interactRef: input.interact_ref,
    leaseUntil: new Date(Date.now() + config.settlement.finishLeaseMs),
  })
  // A refresh, a double redirect or a concurrent request: answer from what the winner stored.
  if (!claimed) return waitWhileFinishing(payment.id)
  return completeFinishing(claimed)
}

async function waitWhileFinishing(id: string): Promise<Payment> {
  const deadline = Date.now() + WAIT_FOR_OTHER_FINISH_MS
  for (;;) {
    const payment = await db.payment.findUniqueOrThrow({ where: { id } })
    if (payment.state !== 'FINISHING' || Date.now() > deadline) return payment
    await sleep(100)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function fail(payment: Payment, failureCode: string, failureMessage: string, also: Prisma.PaymentWhereInput = {}): Promise<Payment> {
  const failed = await transitionPayment(payment.id, ['FINISHING'], {
    state: 'FAILED',
    failureCode,
    failureMessage,
    leaseUntil: null,
    finishedAt: new Date(),
  }, also)
  if (failed) logger.warn({ pendingId: payment.id, failureCode }, 'checkout failed')
  return failed ?? db.payment.findUniqueOrThrow({ where: { id: payment.id } })
}

/** Continues the grant (once), waiting out the wallet's `wait` and answering `too_fast` with patience. */
async function continueGrant(client: AuthenticatedClient, payment: Payment) {
  const earliest = payment.grantRequestedAt!.getTime() + (payment.continueWaitSeconds ?? 0) * 1000
  if (earliest > Date.now()) await sleep(earliest - Date.now())
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.grant.continue(
        { url: payment.continueUri!, accessToken: decryptSecret(payment.continueToken!) },
        { interact_ref: payment.interactRef! },
      )
    } catch (error) {
      if (walletAnswer(error).code === 'too_fast' && attempt < 4) {
        await sleep(1000 * attempt)
        continue
      }
      throw error
    }
  }
}

/**
 * An outgoing payment this service already made under the payment's grant (crash recovery),
 * found by the pendingId in its metadata. `list` answers page by page: read them all.
 */
async function findOutgoingPayment(client: AuthenticatedClient, payment: Payment, accessToken: string, resourceServer: string) {
  let cursor: string | undefined
  for (let page = 0; page < 100; page++) {
    const result = await client.outgoingPayment
      .list(
        { url: resourceServer, accessToken, walletAddress: payment.buyerWalletAddressUrl },
        { first: 100, 'wallet-address': payment.buyerWalletAddressUrl, ...(cursor ? { cursor } : {}) },
      )
      .catch((error) => {
        throw toWalletError(error, 'looking for an outgoing payment already made')
      })
    const found = result.result.find((op) => op.metadata?.pendingId === payment.id)
    if (found) return found
    if (!result.pagination.hasNextPage || !result.pagination.endCursor) return undefined
    cursor = result.pagination.endCursor
  }
  throw new AppError('WALLET_REFUSED', 'The buyer wallet lists too many outgoing payments to search', { step: 'looking for an outgoing payment already made' })
}

/**
 * Runs the rest of a claimed finish: continue the grant (unless a previous attempt stored its
 * token), then create the outgoing payment (unless one already exists under the grant).
 */
export async function completeFinishing(claimed: Payment): Promise<Payment> {
  // Keep the claim while this process works on it: a finish can take a while (the wallet's
  // continue `wait`, too_fast retries, slow wallets), and an expired lease lets the settlement
  // worker resume the same payment. Only a process that died stops renewing.
  const renewal = setInterval(() => {
    db.payment
      .updateMany({ where: { id: claimed.id, state: 'FINISHING' }, data: { leaseUntil: new Date(Date.now() + config.settlement.finishLeaseMs) } })
      .catch((error) => logger.warn({ pendingId: claimed.id, err: error }, 'could not renew the finish lease'))
  }, config.settlement.finishLeaseMs / 3)
  try {
    return await runClaimedFinish(claimed)
  } finally {
    clearInterval(renewal)
  }
}

async function runClaimedFinish(claimed: Payment): Promise<Payment> {
  let payment = claimed
  const seller = await requireSeller(payment.sellerId)
  const client = await getSellerClient(seller)
  const resumed = Boolean(payment.accessToken)

  if (!payment.accessToken) {
    let grant
    try {
      grant = await continueGrant(client, payment)
    } catch (error) {
      const { status, code } = walletAnswer(error)
      // invalid_client is this service's key or signature, not the grant: keep it continuable.
      if (status && status >= 400 && status < 500 && code !== 'invalid_client') {
        // Continuation is single-use: a refusal can mean that another holder of this claim (a
        // request still alive when its lease ran out and the settlement worker resumed it) has
        // just continued. If it stored the token, it pays: failing here would mark FAILED a
        // payment that then goes through. Whichever of the two conditional updates comes first wins.
        return fail(payment, 'GRANT_CONTINUATION_FAILED', 'The buyer wallet refused to continue the approved grant', { accessToken: null })
      }
      throw toWalletError(error, 'continuing the outgoing-payment grant') // stays FINISHING; resumed later
    }
    crashPoint('after-grant-continued')
    if (!('access_token' in grant) || !grant.access_token) {
      return fail(payment, 'GRANT_NOT_APPROVED', 'The buyer wallet did not issue an access token for the payment')
    }
    // Stored before the outgoing payment is created: continuation is single-use.
    const stored = await transitionPayment(payment.id, ['FINISHING'], {
      accessToken: encryptSecret(grant.access_token.value),
      accessTokenManageUrl: grant.access_token.manage,
      accessTokenExpiresAt: new Date(Date.now() + (grant.access_token.expires_in ?? 86_400) * 1000),
      leaseUntil: new Date(Date.now() + config.settlement.finishLeaseMs),
    })
    if (!stored) return db.payment.findUniqueOrThrow({ where: { id: payment.id } })
    crashPoint('after-token-stored')
    payment = stored
  }

  // A resumed finish may come long after the token was issued: rotate it when it is about to expire.
  const accessToken = await outgoingAccessToken(client, payment).catch((error) => {
    throw toWalletError(error, 'rotating the outgoing-payment access token')
  })
  const buyerWallet = await getWalletAddress(client, payment.buyerWalletAddressUrl, 'buyerWalletAddressUrl')
  const resourceServer = buyerWallet.resourceServer

  let outgoing: OutgoingPayment | undefined
  if (resumed) {
    outgoing = await findOutgoingPayment(client, payment, accessToken, resourceServer)
  }
  let quoteUpdate: Prisma.PaymentUpdateManyMutationInput = {}
  const create = (quoteId: string) =>
    client.outgoingPayment.create(
      { url: resourceServer, accessToken },
      { walletAddress: payment.buyerWalletAddressUrl, quoteId, metadata: { pendingId: payment.id, offerId: payment.offerId } },
    )
  // The buyer took longer than the quote lives: quote again for the same incoming payment, and
  // pay only if the new price still fits what the buyer approved (the grant's debitAmount limit).
  const createWithFreshQuote = async () => {
    const quote = await createQuote(client, payment.sellerId, buyerWallet, payment.incomingPaymentId!)
    if (BigInt(quote.debitAmount.value) > BigInt(payment.debitAmount!) || quote.debitAmount.assetCode !== payment.debitAssetCode) {
      return undefined
    }
    quoteUpdate = {
      quoteId: quote.id,
      debitAmount: quote.debitAmount.value,
      receiveAmount: quote.receiveAmount.value,
      quoteExpiresAt: quote.expiresAt ? new Date(quote.expiresAt) : null,
    }
    return create(quote.id)
  }

  if (!outgoing) {
    try {
      const expired = payment.quoteExpiresAt && payment.quoteExpiresAt.getTime() <= Date.now() + 1000
      outgoing = expired ? await createWithFreshQuote() : await create(payment.quoteId!).catch(async (error) => {
        // The wallet's clock decides: an expired quote is a 400; quote again once.
        if (walletAnswer(error).status === 400) return createWithFreshQuote()
        throw error
      })
      if (!outgoing) return fail(payment, 'QUOTE_EXPIRED', 'The quote expired and the new price exceeds what the buyer approved')
    } catch (error) {
      if (error instanceof AppError) throw error
      const { status } = walletAnswer(error)
      if (status === 400) return fail(payment, 'QUOTE_EXPIRED', 'The buyer wallet refused the quote (expired or invalid)')
      if (status === 403) {
        // A spent grant may mean an earlier attempt created the payment and died before recording it.
        // If that lookup fails it throws: stay FINISHING and look again later rather than fail a payment that may have gone through.
        outgoing = await findOutgoingPayment(client, payment, accessToken, resourceServer)
        if (!outgoing) return fail(payment, 'GRANT_SPENT', 'The buyer wallet refused the payment: the grant is spent or too small')
      } else if (status && status >= 400 && status < 500) {
        return fail(payment, 'OUTGOING_PAYMENT_REFUSED', 'The buyer wallet refused to create the outgoing payment')
      } else {
        throw toWalletError(error, 'creating the outgoing payment') // stays FINISHING; resumed later
      }
    }
  }

  crashPoint('after-outgoing-payment-created')
  const processing = await transitionPayment(payment.id, ['FINISHING'], {
    ...quoteUpdate,
    state: 'PROCESSING',
    outgoingPaymentId: outgoing.id,
    outgoingPaymentJson: JSON.stringify(outgoing),
    sentAmount: outgoing.sentAmount.value,
    leaseUntil: null,
    nextCheckAt: new Date(),
  })
  logger.info({ pendingId: payment.id, outgoingPaymentId: outgoing.id }, 'outgoing payment created')
  return processing ?? db.payment.findUniqueOrThrow({ where: { id: payment.id } })
}

/** Claims a finishing payment whose lease expired (its process died) and completes it. */
export async function resumeFinishing(id: string): Promise<Payment | null> {
  const now = new Date()
  const { count } = await db.payment.updateMany({
    where: { id, state: 'FINISHING', OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
    data: { leaseUntil: new Date(now.getTime() + config.settlement.finishLeaseMs) },
  })
  if (count === 0) return null
  return completeFinishing(await db.payment.findUniqueOrThrow({ where: { id } }))
}
