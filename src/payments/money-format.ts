// Money for people: minor units at a scale, written with thousands separators and the asset code
// ("123456" USD at scale 2 -> "1,234.56 USD"). BigInt throughout, so any uint64 prints exactly.

/** Formats `value` minor units (an integer string or BigInt) of `assetCode` at `assetScale`. */
export function formatMoney(value: string | bigint, assetCode: string, assetScale: number): string {
  const minor = BigInt(value)
  const sign = minor < 0n ? '-' : ''
  const digits = (minor < 0n ? -minor : minor).toString().padStart(assetScale + 1, '0')
  const whole = digits.slice(0, digits.length - assetScale).replace(/\B(?=(\d{3})+$)/g, ',')
  const fraction = assetScale > 0 ? `.${digits.slice(digits.length - assetScale)}` : ''
  return `${sign}${whole}${fraction} ${assetCode}`
}
