// Amounts are strings holding a positive integer in minor units ("100" at scale 2 is 1.00),
// handled as BigInt: never floats (the original's parseFloat turned "19.99" into 1998.9999...).
import { AppError } from '../errors.js'

const MAX_UINT64 = 2n ** 64n - 1n

export function parseAmount(raw: unknown, field = 'amount'): bigint {
  if (typeof raw !== 'string' || !/^[0-9]{1,20}$/.test(raw)) {
    throw new AppError('INVALID_AMOUNT', `${field} must be a string holding a positive integer in minor units (e.g. "100" for 1.00 at scale 2)`, {
      field,
    })
  }
  const value = BigInt(raw)
  if (value <= 0n) throw new AppError('INVALID_AMOUNT', `${field} must be greater than zero`, { field })
  if (value > MAX_UINT64) throw new AppError('INVALID_AMOUNT', `${field} must not exceed 2^64-1`, { field })
  return value
}
