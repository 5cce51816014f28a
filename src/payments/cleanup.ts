// Wallet clean-up: what the service still owes the wallets after a checkout ended without being
// paid. Two steps, each persisted as a WalletCleanup row in the same transaction as the state
// change that calls for it (src/payments/transitions.ts), then done by the job
// src/workers/clean-up-wallets.ts (claimed with a lease, attemptWalletCleanupStep) until the wallet confirms:
//  - CANCEL_GRANT: the buyer's outgoing-payment grant is cancelled at their auth server, so their
//    wallet no longer shows it as approvable (pending) or spendable (a continued grant's token).
//  - CLOSE_INCOMING_PAYMENT: the seller's incoming payment is completed, so the seller's wallet
//    stops listing an open payment that will never be paid.
// A failed attempt is retried on CLEANUP_RETRY_SCHEDULE; when it runs out the step is GAVE_UP (a
// warn log line, GraphQL `cleanup.gaveUp`) until an operator re-arms it (retryWalletCleanup).
import { monotonicFactory } from 'ulid'
import type { Payment, PaymentState, Prisma, RunStatement, WalletCleanup, WalletCleanupStep } from '../db.js'
import type { Deps } from '../deps.js'
import { cancelGrant } from '../open-payments/grants.js'
import { closeIncomingPayment } from '../open-payments/incoming-payments.js'
import { describeWalletFailure, type WalletFailure } from '../open-payments/outcomes.js'
import { readWalletAddress } from '../open-payments/wallet-addresses.js'
import { requireSeller } from '../sellers/service.js'
import { computeNextAttemptAt } from '../webhooks/delivery.js'
import { requirePayment } from './queries.js'

/** How long one attempt at a step may take before another process may attempt it. */
export const CLEANUP_LEASE_MS = 60_000
const nextCleanupId = monotonicFactory()
const log = (deps: Deps) => deps.logger.child({ component: 'cleanup' })

/** How a step reads in log lines. */
const stepName: Record<WalletCleanupStep, string> = {
  CANCEL_GRANT: 'cancel grant',
  CLOSE_INCOMING_PAYMENT: 'close incoming payment',
}

/**
 * The clean-up a payment needs now that it is in its current state; none unless it ended unpaid.
 * - The grant is cancelled whenever one was requested: abandoned, rejected, failed. Even after
 *   `result=grant_rejected` (its finish secret shows it came through the buyer's browser, not that
 *   the wallet finalized the grant) the wallet may still hold the grant as pending; cancelling a
 *   grant the wallet already finalized is harmless.
 * - The incoming payment is closed only if nothing was received and no outgoing payment could
 *   still pay into it (none was created, or the buyer's wallet reported it failed). A payment that
 *   received part of its amount keeps its incoming payment as it is: completing it would tell the
 *   seller's wallet the payment is finished when the seller holds money the marketplace must still
 *   settle (refund or collect the rest); left open, the wallet ends it at expiresAt with the true
 *   received amount. After INCOMING_PAYMENT_EXPIRED or _CLOSED the wallet has ended it already.
 */
/** The states whose payments may need a wallet clean-up: the unpaid ends. */
export const walletCleanupEndStates: ReadonlySet<PaymentState> = new Set(['EXPIRED', 'REJECTED', 'FAILED'])

export function walletCleanupStepsFor(payment: Payment): WalletCleanupStep[] {
  if (!walletCleanupEndStates.has(payment.state)) return []
  const steps: WalletCleanupStep[] = []
  if (payment.continueUri && payment.continueToken) steps.push('CANCEL_GRANT')
  const nothingReceived = !payment.receivedAmount || BigInt(payment.receivedAmount) === 0n
  const outgoingCouldStillSend = payment.outgoingPaymentId !== null && payment.failureCode !== 'FUNDING_FAILED'
  if (payment.incomingPaymentId && nothingReceived && !outgoingCouldStillSend) steps.push('CLOSE_INCOMING_PAYMENT')
  return steps
}

/**
 * Records the clean-up `payment` needs, through `run`: the transaction that changed its state (on
 * the database's writer, as src/payments/transitions.ts runs it).
 */
export async function enqueueWalletCleanup(deps: Deps, run: RunStatement, payment: Payment): Promise<WalletCleanupStep[]> {
  const steps = walletCleanupStepsFor(payment)
  const now = deps.clock.now()
  for (const step of steps) {
    await run(
      'INSERT INTO "WalletCleanup" ("id", "paymentId", "step", "status", "attempts", "nextAttemptAt", "createdAt") VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [nextCleanupId(), payment.id, step, 'PENDING', 0, now, now],
    )
  }
  return steps
}

type StepResult = { outcome: 'CANCELLED' | 'CLOSED' | 'ALREADY_GONE' } | { outcome: 'FAILED'; reason: string }

async function performStep(deps: Deps, task: WalletCleanup, payment: Payment): Promise<StepResult> {
  const failed = (failure: WalletFailure): StepResult => ({ outcome: 'FAILED', reason: describeWalletFailure(failure) })
  try {
    const seller = await requireSeller(deps, payment.sellerId)
    const client = await deps.wallets.sellerClient(seller)
    if (task.step === 'CANCEL_GRANT') {
      const result = await cancelGrant(deps, client, { continueUri: payment.continueUri!, continueToken: deps.secrets.decrypt(payment.continueToken!) })
      if (result.outcome === 'cancelled') return { outcome: 'CANCELLED' }
      return result.outcome === 'alreadyGone' ? { outcome: 'ALREADY_GONE' } : failed(result)
    }
    const sellerWallet = await readWalletAddress(deps, client, seller.walletAddressUrl, 'seller walletAddressUrl')
    if (sellerWallet.outcome !== 'found') return { outcome: 'FAILED', reason: sellerWallet.error.message }
    const result = await closeIncomingPayment(deps, client, seller.id, sellerWallet.wallet, payment.incomingPaymentId!)
    if (result.outcome === 'closed') return { outcome: 'CLOSED' }
    return result.outcome === 'alreadyGone' ? { outcome: 'ALREADY_GONE' } : failed(result)
  } catch (error) {
    log(deps).error({ pendingId: payment.id, step: stepName[task.step], err: error }, 'wallet clean-up step crashed')
    return { outcome: 'FAILED', reason: 'internal error' }
  }
}

/** Runs one claimed step and records its result, fenced by the lease it was claimed with. */
export async function attemptWalletCleanupStep(deps: Deps, task: WalletCleanup, payment: Payment, leaseUntil: Date): Promise<void> {
  const result = await performStep(deps, task, payment)
  const attempts = task.attempts + 1
  const at = deps.clock.now()
  const fields = { pendingId: payment.id, step: stepName[task.step], attempt: attempts }
  let data: Prisma.WalletCleanupUpdateManyMutationInput
  let report: () => void
  if (result.outcome !== 'FAILED') {
    data = { status: 'DONE', outcome: result.outcome, attempts, leaseUntil: null, lastError: null, finishedAt: at }
    report = () => log(deps).info({ ...fields, outcome: result.outcome }, 'wallet clean-up step done')
  } else {
    const nextAttemptAt = computeNextAttemptAt(attempts, deps.config.cleanup.retryScheduleMs, at)
    if (nextAttemptAt) {
      data = { attempts, leaseUntil: null, lastError: result.reason, nextAttemptAt }
      report = () => log(deps).info({ ...fields, reason: result.reason, nextAttemptAt }, 'wallet clean-up step failed; will retry')
    } else {
      data = { status: 'GAVE_UP', attempts, leaseUntil: null, lastError: result.reason, finishedAt: at }
      report = () =>
        log(deps).warn({ ...fields, reason: result.reason }, 'wallet clean-up gave up; the wallet still holds it (README "Wallet clean-up")')
    }
  }
  const { count } = await deps.db.prisma.walletCleanup.updateMany({ where: { id: task.id, leaseUntil }, data })
  if (count === 1) report()
  else log(deps).warn(fields, 'wallet clean-up lease expired before the result was recorded; another worker owns the step now')
}

/** GraphQL `retryWalletCleanup`: an operator re-arms the steps that gave up (after fixing the wallet side). */
export async function retryWalletCleanup(deps: Deps, pendingId: string): Promise<Payment> {
  const payment = await requirePayment(deps, pendingId)
  const { count } = await deps.db.prisma.walletCleanup.updateMany({
    where: { paymentId: payment.id, status: 'GAVE_UP' },
    data: { status: 'PENDING', attempts: 0, nextAttemptAt: deps.clock.now(), finishedAt: null },
  })
  if (count > 0) {
    log(deps).info({ pendingId: payment.id, steps: count }, 'wallet clean-up re-armed')
    announceWalletCleanups(deps)
  }
  return payment
}

/** Wakes the clean-up workers (src/workers/clean-up-wallets.ts): steps are due now. Call it after the commit. */
export function announceWalletCleanups(deps: Deps): void {
  deps.db.announce('wallet_cleanups')
}
