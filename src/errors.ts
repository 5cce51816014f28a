// One error model for the whole service. A domain error carries a code, and each code maps to
// exactly one HTTP status. REST answers `{ error, code, details? }`; GraphQL exposes the same
// code on its typed error results (or `extensions.code`).

export const errorStatus = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  INVALID_AMOUNT: 400,
  INVALID_WALLET_ADDRESS: 400,
  /** The wallet host answered 404: there is no wallet address at that URL (the caller's to fix). */
  WALLET_ADDRESS_NOT_FOUND: 400,
  /** The wallet URL's host name does not resolve (the caller's to fix). */
  WALLET_HOST_NOT_FOUND: 400,
  INVALID_KEY_PATH: 400,
  KEY_NOT_FOUND: 400,
  INVALID_KEY: 400,
  SELLER_WALLET_UNREACHABLE: 400,
  SELLER_KEY_MISMATCH: 400,
  INVALID_FINISH: 400,
  INVALID_FINISH_HASH: 400,
  /** A finish `result=` without the checkout's finish secret (src/payments/finish-secret.ts). */
  INVALID_FINISH_SECRET: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  SELLER_NOT_FOUND: 404,
  PAYMENT_NOT_FOUND: 404,
  EVENT_NOT_FOUND: 404,
  NOT_ACCEPTABLE: 406,
  REQUEST_TIMEOUT: 408,
  PAYMENT_NOT_FINISHABLE: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_SUBSCRIPTIONS: 429,
  REQUEST_HEADERS_TOO_LARGE: 431,
  WALLET_REFUSED: 502,
  WALLET_UNREACHABLE: 502,
  WALLET_TIMEOUT: 504,
  NOT_READY: 503,
  INTERNAL: 500,
} as const

export type ErrorCode = keyof typeof errorStatus

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'AppError'
    this.status = errorStatus[code]
  }
}
