// Settlement: creating an outgoing payment is not payment. checkSettlement reads what the wallets
// report about a PROCESSING payment and records it: received in full -> COMPLETED; outgoing failed
// or incoming expired short -> FAILED; otherwise the next check is scheduled with backoff. The job
// that runs it on every due payment is src/workers/check-settlements.ts; recheckPayment runs it now.
import type { AuthenticatedClient, OutgoingPayment } from '@interledger/open-payments'
import type { Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { readIncomingPayment } from '../open-payments/incoming-payments.js'
import { readOutgoingPayment } from '../open-payments/outgoing-payments.js'
import { readWalletAddress } from '../open-payments/wallet-addresses.js'
import type { SellerIdentity } from '../open-payments/wallets.js'
import { requireSeller } from '../sellers/service.js'
import { outgoingAccessToken } from './access-token.js'
import { resumeFinishing } from './finish.js'
import { requirePayment } from './queries.js'
import { transitionPayment } from './transitions.js'

/**
 * How long a settlement check may take before another process may check the payment again: a
 * check makes at most a token rotation (a POST: one attempt of OPEN_PAYMENTS_TIMEOUT_MS) and two
 * reads (the outgoing and the incoming payment: GETs, each up to three attempts and two waits of
 * at most the timeout, src/open-payments/wallet-http.ts), 11 timeouts in all; 60 s with the
 * default 5 s timeout.
 */
export const checkLeaseMs = (deps: Deps) => 12 * deps.config.openPayments.timeoutMs
const MAX_CHECK_INTERVAL_MS = 5 * 60_000
const log = (deps: Deps) => deps.logger.child({ component: 'settlement' })

/**
 * A new PROCESSING payment is first checked this long after its outgoing payment was created: the
 * buyer's wallet funds it later (PROTOCOL.md: in the reference run the incoming payment completed
 * about 0.7 s after funding), so a check at once would only find nothing received yet.
 */
export const FIRST_CHECK_DELAY_MS = 1000

/** After a check that found the payment unsettled: 1 s, 2 s, 4 s … capped at 5 minutes. */
export function nextCheckDelayMs(attempts: number): number {
  return Math.min(MAX_CHECK_INTERVAL_MS, 1000 * 2 ** Math.min(attempts, 20))
}

/**
 * Reads what the wallets say about a PROCESSING payment and records it. The seller's incoming
 * payment decides: received in full -> COMPLETED; expired (or closed) short -> FAILED. The buyer's
 * outgoing payment is read as well, best effort: `failed` ends the payment, and its sentAmount is
 * shown; a buyer wallet that no longer answers (token revoked, wallet down) cannot hold back a
 * payment the seller has received. The seller's client signs the reads: `claimedSeller` when the
 * claim that leased the check read it, else read now.
 */
export async function checkSettlement(deps: Deps, payment: Payment, claimedSeller?: SellerIdentity): Promise<Payment> {
  const { prisma } = deps.db
  const now = deps.clock.now()
  const received = (value: string) => `received ${value} of ${payment.amount}`
  try {
    const seller = claimedSeller ?? (await requireSeller(deps, payment.sellerId))
    const client = await deps.wallets.sellerClient(seller)
    const sellerWallet = await readWalletAddress(deps, client, seller.walletAddressUrl, 'seller walletAddressUrl')
    if (sellerWallet.outcome !== 'found') throw sellerWallet.error
    const incomingRead = await readIncomingPayment(deps, client, seller.id, sellerWallet.wallet, payment.incomingPaymentId!)
    if (incomingRead.outcome !== 'read') throw incomingRead.error
    const incoming = incomingRead.incomingPayment
    const outgoing = await readOutgoingBestEffort(deps, client, payment)
    const receivedAmount = incoming.receivedAmount.value
    const amounts = { receivedAmount, lastCheckedAt: now, ...(outgoing ? { sentAmount: outgoing.sentAmount.value } : {}) }
    const done = { ...amounts, leaseUntil: null, nextCheckAt: null, finishedAt: now }
    const fail = (failureCode: string, failureMessage: string) =>
      transitionPayment(deps, payment.id, ['PROCESSING'], { ...done, state: 'FAILED', failureCode, failureMessage })

    const expiresAt = incoming.expiresAt ? new Date(incoming.expiresAt) : payment.incomingPaymentExpiresAt
    let settled: Payment | null | undefined
    if (BigInt(receivedAmount) >= BigInt(payment.amount)) {
      settled = await transitionPayment(deps, payment.id, ['PROCESSING'], { ...done, state: 'COMPLETED' })
    } else if (outgoing?.failed) {
      settled = await fail('FUNDING_FAILED', `The buyer wallet did not fund the payment (${received(receivedAmount)})`)
    } else if (incoming.completed) {
      settled = await fail('INCOMING_PAYMENT_CLOSED', `The seller's incoming payment was closed after it ${received(receivedAmount)}`)
    } else if (expiresAt && expiresAt <= now) {
      settled = await fail('INCOMING_PAYMENT_EXPIRED', `The seller's incoming payment expired after it ${received(receivedAmount)}`)
    } else {
      settled = await transitionPayment(deps, payment.id, ['PROCESSING'], {
        ...amounts,
        checkAttempts: { increment: 1 },
        nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(payment.checkAttempts)),
        leaseUntil: null,
      })
    }
    return settled ?? prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })
  } catch (error) {
    const code = error instanceof AppError ? error.code : 'INTERNAL'
    log(deps).warn({ pendingId: payment.id, code, details: error instanceof AppError ? error.details : undefined, err: error instanceof AppError ? undefined : error }, 'settlement check failed; will retry')
    await prisma.payment.updateMany({
      where: { id: payment.id, state: 'PROCESSING' },
      data: {
        lastCheckedAt: now,
        checkAttempts: { increment: 1 },
        nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(payment.checkAttempts)),
        leaseUntil: null,
      },
    })
    return prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })
  }
}

/** The buyer's outgoing payment, best effort: undefined when its wallet does not answer. */
async function readOutgoingBestEffort(deps: Deps, client: AuthenticatedClient, payment: Payment): Promise<OutgoingPayment | undefined> {
  const token = await outgoingAccessToken(deps, client, payment)
  const read = token.outcome === 'ready' ? await readOutgoingPayment(deps, client, { url: payment.outgoingPaymentId!, accessToken: token.value }) : token
  if (read.outcome === 'read') return read.outgoingPayment
  log(deps).info({ pendingId: payment.id, wallet: read.error.details }, 'could not read the outgoing payment; deciding from the incoming payment')
  return undefined
}

async function claimCheck(deps: Deps, id: string, now: Date): Promise<Payment | null> {
  const { prisma } = deps.db
  const { count } = await prisma.payment.updateMany({
    where: { id, state: 'PROCESSING', OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
    data: { leaseUntil: new Date(now.getTime() + checkLeaseMs(deps)) },
  })
  return count ? prisma.payment.findUnique({ where: { id } }) : null
}

/** GraphQL `recheckPayment`: check a payment's settlement now instead of at its next scheduled time. */
export async function recheckPayment(deps: Deps, pendingId: string): Promise<Payment> {
  const payment = await requirePayment(deps, pendingId)
  if (payment.state === 'FINISHING') return (await resumeFinishing(deps, payment.id, { dueOnly: false })) ?? payment
  if (payment.state !== 'PROCESSING') return payment
  const claimed = await claimCheck(deps, payment.id, deps.clock.now())
  if (!claimed) throw new AppError('PAYMENT_NOT_FINISHABLE', 'This payment is being checked right now; try again shortly', { pendingId })
  return checkSettlement(deps, claimed)
}
