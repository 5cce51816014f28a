import { formatMoney } from '../payments/money-format.js'
import type { Amount, SandboxConfig, Wallet } from './context.js'

export function toAmount(value: bigint, asset: { assetCode: string; assetScale: number }): Amount {
  return { value: value.toString(), assetCode: asset.assetCode, assetScale: asset.assetScale }
}

export function walletAmount(wallet: Wallet, value: bigint): Amount {
  return toAmount(value, wallet)
}

export function isSameAsset(a: { assetCode: string; assetScale: number }, b: { assetCode: string; assetScale: number }): boolean {
  return a.assetCode === b.assetCode && a.assetScale === b.assetScale
}

/** Parses a spec `amount.value` (uint64 as a string); undefined if it is not one. */
export function parseMinorUnits(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) return undefined
  return BigInt(value)
}

/** "123456" at scale 2 in USD -> "1,234.56 USD", for people reading the consent page. */
export function formatAmount(amount: Amount): string {
  return formatMoney(amount.value, amount.assetCode, amount.assetScale)
}

// Same-asset quotes only: the fee is added on top of what the receiver gets. BigInt throughout,
// and the percentage part rounds up so the wallet never undercharges by a fraction.
export function computeFee(receive: bigint, fee: SandboxConfig['quoteFee']): bigint {
  const bps = BigInt(fee.basisPoints)
  return fee.fixed + (receive * bps + 9999n) / 10000n
}

/** The largest receive amount whose receive + fee fits in `debit`. */
export function receiveForDebit(debit: bigint, fee: SandboxConfig['quoteFee']): bigint {
  if (debit <= fee.fixed) return 0n
  let receive = ((debit - fee.fixed) * 10000n) / (10000n + BigInt(fee.basisPoints))
  while (receive > 0n && receive + computeFee(receive, fee) > debit) receive -= 1n
  return receive
}
