import { describe, expect, it } from 'vitest'
import { formatMoney } from '../../src/payments/money-format.js'
import { describeAmounts } from '../../src/payments/payment-amounts.js'

describe('formatMoney', () => {
  it('writes minor units at their scale with thousands separators, exactly (BigInt)', () => {
    expect(formatMoney('910', 'EUR', 2)).toBe('9.10 EUR')
    expect(formatMoney('5', 'USD', 2)).toBe('0.05 USD')
    expect(formatMoney('123456789', 'USD', 2)).toBe('1,234,567.89 USD')
    expect(formatMoney('18446744073709551615', 'USD', 2)).toBe('184,467,440,737,095,516.15 USD')
    expect(formatMoney('1000000', 'JPY', 0)).toBe('1,000,000 JPY')
    expect(formatMoney(1234n, 'BTC', 8)).toBe('0.00001234 BTC')
  })
})

describe('describeAmounts', () => {
  const usdSeller = { amount: '1000', assetCode: 'USD', assetScale: 2, receiveAmount: '1000' }
  const eurBuyer = { debitAmount: '910', debitAssetCode: 'EUR', debitAssetScale: 2 }

  it('speaks both sides when the buyer pays in another currency', () => {
    expect(describeAmounts({ ...usdSeller, ...eurBuyer, state: 'PROCESSING' })).toBe('Paying 9.10 EUR · the seller receives 10.00 USD')
    expect(describeAmounts({ ...usdSeller, ...eurBuyer, state: 'COMPLETED' })).toBe('You paid 9.10 EUR · the seller receives 10.00 USD')
    expect(describeAmounts({ ...usdSeller, ...eurBuyer, state: 'AWAITING_APPROVAL' })).toBe('You pay 9.10 EUR · the seller receives 10.00 USD')
    expect(describeAmounts({ ...usdSeller, ...eurBuyer, state: 'REJECTED' })).toBe('Price 9.10 EUR · the seller would have received 10.00 USD')
  })

  it('says one amount when both sides are the same currency, or before there is a quote', () => {
    const sameCurrency = { debitAmount: '1015', debitAssetCode: 'USD', debitAssetScale: 2 }
    expect(describeAmounts({ ...usdSeller, ...sameCurrency, state: 'COMPLETED' })).toBe('10.00 USD')
    const noQuote = { debitAmount: null, debitAssetCode: null, debitAssetScale: null, receiveAmount: null }
    expect(describeAmounts({ ...usdSeller, ...noQuote, state: 'AWAITING_APPROVAL' })).toBe('10.00 USD')
  })
})
