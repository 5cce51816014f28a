import type { createAuthenticatedClient } from '@interledger/open-payments'
import type { Logger } from 'pino'

type SdkLogger = NonNullable<Parameters<typeof createAuthenticatedClient>[0]['logger']>

/**
 * The SDK's own logger (a child of the service's `logger`), silenced: its debug lines describe keys
 * and requests, and every failure it logs is mapped once by this service
 * (src/open-payments/outcomes.ts). The cast bridges the SDK's pino 8 types and this service's
 * pino 10; the runtime API is the same.
 */
export function sdkLogger(logger: Logger): SdkLogger {
  return logger.child({ component: 'open-payments-sdk' }, { level: 'silent' }) as unknown as SdkLogger
}
