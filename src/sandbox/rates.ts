// The sandbox's exchange rates: a table in the shape rates services answer (Rafiki's
// EXCHANGE_RATES_URL: `{"base": "USD", "rates": {"EUR": 0.91}}`, one base unit = 0.91 EUR), read
// as exact fractions. Money never meets a float: a rate given as a JSON number is read from its
// decimal text ("0.91" is 91/100), and conversions are BigInt with explicit rounding.

export interface RateTable {
  base: string
  /** Units of each asset per one unit of `base`, as decimal strings. */
  rates: Record<string, string>
}

/** A rate table as callers write it: rates as decimal strings or JSON numbers. */
export interface RateTableInput {
  base: string
  rates: Record<string, string | number>
}

export interface Asset {
  assetCode: string
  assetScale: number
}

interface Fraction {
  num: bigint
  den: bigint
}

const DECIMAL = /^(\d{1,30})(?:\.(\d{1,30}))?(?:e([+-]?\d{1,2}))?$/i
const ASSET_CODE = /^[A-Za-z0-9]{1,32}$/

export const NO_RATES: RateTable = { base: 'USD', rates: {} }

function parseDecimal(text: string): Fraction | undefined {
  const match = DECIMAL.exec(text)
  if (!match) return undefined
  const [, whole, fraction = '', exponent = '0'] = match
  const shift = Number(exponent) - fraction.length
  const digits = BigInt(whole + fraction)
  return shift >= 0 ? { num: digits * 10n ** BigInt(shift), den: 1n } : { num: digits, den: 10n ** BigInt(-shift) }
}

/**
 * Checks a rate table from a caller (numbers or decimal strings, each above zero) and returns it
 * with every rate as a decimal string. Throws an Error saying what is wrong.
 */
export function parseRateTable(input: RateTableInput): RateTable {
  if (!ASSET_CODE.test(input.base)) throw new Error(`invalid base asset code "${input.base}"`)
  const rates: Record<string, string> = {}
  for (const [assetCode, rate] of Object.entries(input.rates)) {
    if (!ASSET_CODE.test(assetCode)) throw new Error(`invalid asset code "${assetCode}"`)
    const text = typeof rate === 'number' && Number.isFinite(rate) ? rate.toString() : String(rate)
    const fraction = parseDecimal(text)
    if (!fraction || fraction.num === 0n) throw new Error(`rate for ${assetCode} must be a positive decimal (got ${JSON.stringify(rate)})`)
    rates[assetCode] = text
  }
  return { base: input.base, rates }
}

/** Units of `assetCode` per one unit of the base; undefined when the table has no rate for it. */
function rateOf(table: RateTable, assetCode: string): Fraction | undefined {
  if (assetCode === table.base) return { num: 1n, den: 1n }
  const text = table.rates[assetCode]
  return text === undefined ? undefined : parseDecimal(text)
}

/** Units of `to` per one unit of `from`, through the base; undefined without a rate for either. */
function exchangeRate(table: RateTable, from: string, to: string): Fraction | undefined {
  if (from === to) return { num: 1n, den: 1n }
  const fromRate = rateOf(table, from)
  const toRate = rateOf(table, to)
  if (!fromRate || !toRate) return undefined
  return { num: toRate.num * fromRate.den, den: toRate.den * fromRate.num }
}

export function hasExchangeRate(table: RateTable, from: string, to: string): boolean {
  return exchangeRate(table, from, to) !== undefined
}

/**
 * Converts `value` minor units of `from` into minor units of `to`, rounding the remainder up or
 * down as the caller needs (a debit is rounded up so that the receiver gets the full amount).
 * Undefined when the table has no rate between the two assets.
 */
export function convertAmount(value: bigint, from: Asset, to: Asset, table: RateTable, rounding: 'up' | 'down'): bigint | undefined {
  const rate = exchangeRate(table, from.assetCode, to.assetCode)
  if (!rate) return undefined
  const num = value * rate.num * 10n ** BigInt(to.assetScale)
  const den = rate.den * 10n ** BigInt(from.assetScale)
  const quotient = num / den
  return rounding === 'up' && quotient * den < num ? quotient + 1n : quotient
}
