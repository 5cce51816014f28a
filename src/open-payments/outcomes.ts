// What a wallet call can come to, for the state machine in src/payments/. Every gateway function
// in src/open-payments/ returns its own success outcomes (`created`, `continued`, …), the outcomes
// its operation names (`quoteExpired`, `grantSpent`, `notFound`, …), or one of these failures:
//  - refused: the wallet said no (a 3xx or 4xx answer, or an address the service must not call);
//    asking again will not help.
//  - unavailable: the wallet failed (5xx), timed out, could not be reached or answered nonsense;
//    asking again later may work.
// Each failure carries the AppError a caller answers with (codes in src/errors.ts); raw SDK
// messages never reach a caller.
import { AppError } from '../errors.js'
import type { Deps } from '../deps.js'
import { withConnectionDiagnosis } from './network-guard.js'
import { loadSdk } from './sdk.js'

export interface Refused {
  outcome: 'refused'
  error: AppError
  /** The wallet's HTTP status and GNAP error code, when the wallet answered. */
  walletStatus?: number
  walletCode?: string
}
export interface Unavailable {
  outcome: 'unavailable'
  error: AppError
  walletStatus?: number
  walletCode?: string
}
export type WalletFailure = Refused | Unavailable

export type Called<T> = { outcome: 'answered'; value: T } | WalletFailure

function isTimeout(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''} ${(error as { description?: string })?.description ?? ''}`
  return /timeout|timed out|TimeoutError|aborted/i.test(text)
}

/**
 * Runs one SDK call, timed in the service's metrics. `step` says what the service was doing, e.g. "creating the quote"; it is
 * the end of every error message ("The wallet refused creating the quote").
 */
export async function callWallet<T>(deps: Deps, step: string, call: () => Promise<T>): Promise<Called<T>> {
  const measured = deps.metrics.timeWalletCall(step)
  const called = await interpretWalletCall(step, call)
  measured(called.outcome)
  return called
}

async function interpretWalletCall<T>(step: string, call: () => Promise<T>): Promise<Called<T>> {
  const result = await withConnectionDiagnosis(call)
  if ('value' in result) return { outcome: 'answered', value: result.value }
  const { error, problem } = result
  if (problem?.kind === 'forbiddenAddress') {
    return {
      outcome: 'refused',
      error: new AppError('INVALID_WALLET_ADDRESS', `The wallet host ${problem.host} resolves to a loopback, link-local or private address (${step})`, { step, host: problem.host }),
    }
  }
  if (problem?.kind === 'hostNotFound') {
    return { outcome: 'unavailable', error: new AppError('WALLET_HOST_NOT_FOUND', `The wallet host ${problem.host} does not resolve (${step})`, { step, host: problem.host }) }
  }
  const { OpenPaymentsClientError } = await loadSdk() // loaded already: the call used it (or loading it failed, and throws again here)
  if (error instanceof OpenPaymentsClientError && error.validationErrors?.length) {
    return { outcome: 'unavailable', error: new AppError('WALLET_REFUSED', `The wallet answered ${step} with an invalid response`, { step }) }
  }
  if (error instanceof OpenPaymentsClientError && typeof error.status === 'number') {
    const walletStatus = error.status
    const walletCode = error.code
    const details = { step, walletStatus, walletCode }
    if (walletStatus >= 500) return { outcome: 'unavailable', walletStatus, walletCode, error: new AppError('WALLET_REFUSED', `The wallet failed ${step}`, details) }
    const message = walletStatus < 400 ? `The wallet answered ${step} with a redirect, which the service does not follow` : `The wallet refused ${step}`
    return { outcome: 'refused', walletStatus, walletCode, error: new AppError('WALLET_REFUSED', message, details) }
  }
  if (isTimeout(error)) return { outcome: 'unavailable', error: new AppError('WALLET_TIMEOUT', `The wallet did not answer in time while ${step}`, { step }) }
  return { outcome: 'unavailable', error: new AppError('WALLET_UNREACHABLE', `The wallet could not be reached while ${step}`, { step }) }
}

/**
 * A short, secret-free line saying why a wallet call failed, for logs and GraphQL: the wallet's
 * status and GNAP code when it answered ("wallet answered 503 internal_server_error"), else what
 * went wrong; never a token or the wallet's own message.
 */
export function describeWalletFailure(failure: WalletFailure): string {
  if (failure.walletStatus) return `wallet answered ${failure.walletStatus}${failure.walletCode ? ` ${failure.walletCode}` : ''}`
  return failure.error.message
}
