import { describe, expect, it } from 'vitest'
import { parseAmount } from '../../src/payments/amount.js'

describe('amounts', () => {
  it('parses positive integers in minor units exactly, up to 2^64-1', () => {
    expect(parseAmount('100')).toBe(100n)
    expect(parseAmount('18446744073709551615')).toBe(18446744073709551615n)
    for (const bad of ['0', '-1', '1.5', '1e3', ' 1', '', '18446744073709551616', '0x10']) expect(() => parseAmount(bad), bad).toThrow()
    expect(() => parseAmount(100)).toThrow()
  })
})
