// Maps what the Open Payments SDK throws to the service's own error codes. Raw SDK messages and
// stacks never reach a caller; the wallet's status and GNAP code are kept in details.
import { OpenPaymentsClientError } from '@interledger/open-payments'
import { AppError } from '../errors.js'

export function isTimeout(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''} ${(error as { description?: string })?.description ?? ''}`
  return /timeout|timed out|TimeoutError|aborted/i.test(text)
}

/** `step` names what the service was doing, e.g. "creating the quote". */
export function toWalletError(error: unknown, step: string): AppError {
  if (error instanceof AppError) return error
  if (error instanceof OpenPaymentsClientError && typeof error.status === 'number') {
    return new AppError('WALLET_REFUSED', `The wallet refused ${step}`, {
      step,
      walletStatus: error.status,
      walletCode: error.code,
    })
  }
  if (isTimeout(error)) return new AppError('WALLET_TIMEOUT', `The wallet did not answer in time while ${step}`, { step })
  if (error instanceof OpenPaymentsClientError && error.validationErrors?.length) {
    return new AppError('WALLET_REFUSED', `The wallet answered ${step} with an invalid response`, { step })
  }
  return new AppError('WALLET_UNREACHABLE', `The wallet could not be reached while ${step}`, { step })
}

/** The wallet's HTTP status and GNAP code, when the error came from a wallet answer. */
export function walletAnswer(error: unknown): { status?: number; code?: string } {
  if (error instanceof OpenPaymentsClientError) return { status: error.status, code: error.code }
  return {}
}
