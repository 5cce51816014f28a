import { describe, expect, it } from 'vitest'
import { parseAmount } from '../../src/payments/amount.js'
import { formatMoney } from '../../src/payments/money-format.js'

describe('amounts', () => {
  it('parses positive integers in minor units exactly, up to 2^64-1', () => {
    expect(parseAmount('100')).toBe(100n)
    expect(parseAmount('18446744073709551615')).toBe(18446744073709551615n)
    for (const bad of ['0', '-1', '1.5', '1e3', ' 1', '', '18446744073709551616', '0x10']) expect(() => parseAmount(bad), bad).toThrow()
    expect(() => parseAmount(100)).toThrow()
  })

  it('formats for people: exact digits (no floating point), the asset scale, thousands separators, the code', () => {
    expect(formatMoney('1999', 'USD', 2)).toBe('19.99 USD')
    expect(formatMoney('5', 'EUR', 2)).toBe('0.05 EUR')
    expect(formatMoney('0', 'USD', 2)).toBe('0.00 USD')
    expect(formatMoney('123456789', 'USD', 2)).toBe('1,234,567.89 USD')
    expect(formatMoney('99999999999', 'USD', 2)).toBe('999,999,999.99 USD')
    expect(formatMoney('18446744073709551615', 'USD', 2)).toBe('184,467,440,737,095,516.15 USD')
    expect(formatMoney(1000n, 'JPY', 0)).toBe('1,000 JPY')
    expect(formatMoney('100', 'JPY', 0)).toBe('100 JPY')
    expect(formatMoney('123456789', 'BTC', 9)).toBe('0.123456789 BTC')
    expect(formatMoney('1234567890123', 'XRP', 9)).toBe('1,234.567890123 XRP')
    expect(formatMoney(-150n, 'USD', 2)).toBe('-1.50 USD')
  })
})
