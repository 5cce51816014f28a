// The two sides of a checkout's price. `amount` is what the seller receives, in the seller's asset
// (the contract's amount, what settlement checks). The quote's `debitAmount` is what leaves the
// buyer's wallet, in the buyer's asset, fees included: another currency when the buyer's wallet
// holds one. REST, webhooks and the finish page all read them here.
import type { Payment } from '../db.js'
import { formatMoney } from './money-format.js'

export interface Money {
  value: string
  assetCode: string
  assetScale: number
}

type PaymentAmounts = Pick<Payment, 'amount' | 'assetCode' | 'assetScale' | 'debitAmount' | 'debitAssetCode' | 'debitAssetScale' | 'receiveAmount' | 'state'>

/** What the seller receives: the checkout's amount in the seller's asset. */
export function sellerAmountOf(payment: PaymentAmounts): Money {
  return { value: payment.amount, assetCode: payment.assetCode, assetScale: payment.assetScale }
}

/** What the buyer's wallet debits (the quote the buyer approves), in the buyer's asset; null before the quote. */
export function debitAmountOf(payment: PaymentAmounts): Money | null {
  const { debitAmount, debitAssetCode, debitAssetScale } = payment
  return debitAmount !== null && debitAssetCode !== null && debitAssetScale !== null
    ? { value: debitAmount, assetCode: debitAssetCode, assetScale: debitAssetScale }
    : null
}

/** What the quote delivers to the seller (the whole amount), in the seller's asset; null before the quote. */
export function receiveAmountOf(payment: PaymentAmounts): Money | null {
  return payment.receiveAmount === null ? null : { value: payment.receiveAmount, assetCode: payment.assetCode, assetScale: payment.assetScale }
}

const format = (money: Money) => formatMoney(money.value, money.assetCode, money.assetScale)

/** What the buyer pays, for people: the debit in the buyer's own currency when it differs from the seller's, else the amount. */
export function formatBuyerPrice(payment: PaymentAmounts): string {
  const debit = debitAmountOf(payment)
  return format(debit && debit.assetCode !== payment.assetCode ? debit : sellerAmountOf(payment))
}

/**
 * The price in words for the buyer: one amount when both wallets hold the same currency, else
 * both sides, e.g. "You paid 9.10 EUR · the seller receives 10.00 USD" (tense by state: paid only once
 * the seller received it; nothing is paid before approval or after a refusal).
 */
export function describeAmounts(payment: PaymentAmounts): string {
  const seller = format(sellerAmountOf(payment))
  const debit = debitAmountOf(payment)
  if (!debit || debit.assetCode === payment.assetCode) return seller
  const buyer = format(debit)
  switch (payment.state) {
    case 'COMPLETED':
      return `You paid ${buyer} · the seller receives ${seller}`
    case 'FINISHING':
    case 'PROCESSING':
      return `Paying ${buyer} · the seller receives ${seller}`
    case 'AWAITING_APPROVAL':
      return `You pay ${buyer} · the seller receives ${seller}`
    case 'FAILED':
    case 'REJECTED':
    case 'EXPIRED':
      return `Price ${buyer} · the seller would have received ${seller}`
  }
}
