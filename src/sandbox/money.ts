import { formatMoney } from '../payments/money-format.js'
import type { Amount, SandboxConfig, Wallet } from './context.js'
import { convertAmount, type Asset, type RateTable } from './rates.js'

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

export interface QuotePricing {
  rates: RateTable
  fee: SandboxConfig['quoteFee']
}

// The fee is charged in the sender's asset, on top of the converted amount. BigInt throughout;
// the percentage part rounds up so the wallet never undercharges by a fraction.
export function computeFee(debitBeforeFee: bigint, fee: SandboxConfig['quoteFee']): bigint {
  const bps = BigInt(fee.basisPoints)
  return fee.fixed + (debitBeforeFee * bps + 9999n) / 10000n
}

/** The largest amount before fee whose amount + fee fits in `debit`. */
function debitBeforeFee(debit: bigint, fee: SandboxConfig['quoteFee']): bigint {
  if (debit <= fee.fixed) return 0n
  let amount = ((debit - fee.fixed) * 10000n) / (10000n + BigInt(fee.basisPoints))
  while (amount > 0n && amount + computeFee(amount, fee) > debit) amount -= 1n
  return amount
}

function convertOrThrow(value: bigint, from: Asset, to: Asset, rates: RateTable, rounding: 'up' | 'down'): bigint {
  const converted = convertAmount(value, from, to, rates, rounding)
  if (converted === undefined) throw new Error(`no exchange rate from ${from.assetCode} to ${to.assetCode}`)
  return converted
}

/**
 * What the sender is debited so that the receiver gets exactly `receive`: converted at the rate,
 * rounded UP (the receiver must get the full amount, never a minor unit less), plus the fee.
 */
export function debitForReceive(receive: bigint, receiveAsset: Asset, debitAsset: Asset, pricing: QuotePricing): bigint {
  const converted = convertOrThrow(receive, receiveAsset, debitAsset, pricing.rates, 'up')
  return converted + computeFee(converted, pricing.fee)
}

/** The largest receive amount a fixed `debit` pays for: fee taken off, converted, rounded down. */
export function receiveForDebit(debit: bigint, debitAsset: Asset, receiveAsset: Asset, pricing: QuotePricing): bigint {
  return convertOrThrow(debitBeforeFee(debit, pricing.fee), debitAsset, receiveAsset, pricing.rates, 'down')
}
