// Amounts for people: "123456789" at scale 2 in USD reads "1,234,567.89 USD". Exact (BigInt
// digits, never floats), the asset's own scale, thousands separators, the currency code last.
// The one formatter for every page that shows money (finish page, sandbox consent screen).

export function formatMoney(value: string | bigint, assetCode: string, assetScale: number): string {
  const minor = BigInt(value)
  const digits = (minor < 0n ? -minor : minor).toString().padStart(assetScale + 1, '0')
  const whole = digits.slice(0, digits.length - assetScale).replace(/\B(?=(\d{3})+$)/g, ',')
  const fraction = assetScale > 0 ? `.${digits.slice(digits.length - assetScale)}` : ''
  return `${minor < 0n ? '-' : ''}${whole}${fraction} ${assetCode}`
}
