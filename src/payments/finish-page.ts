// What a buyer's browser sees after the wallet sends it back: a short, clear page, or a redirect
// to the marketplace (the payment's returnUrl, else PAYMENT_RETURN_URL) carrying the outcome.
import { config } from '../config.js'
import type { Payment } from '../db.js'
import { describeAmounts } from './payment-amounts.js'
import { restStatusOf } from './state.js'

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function returnUrlFor(payment: Payment): string | undefined {
  const base = payment.returnUrl ?? config.paymentReturnUrl
  if (!base) return undefined
  const url = new URL(base)
  url.searchParams.set('pendingId', payment.id)
  url.searchParams.set('offerId', payment.offerId)
  url.searchParams.set('status', restStatusOf[payment.state])
  url.searchParams.set('state', payment.state)
  return url.href
}

function headline(payment: Payment): [string, string] {
  switch (payment.state) {
    case 'COMPLETED':
      return ['Payment complete', 'The seller has received your payment.']
    case 'PROCESSING':
    case 'FINISHING':
      return ['Payment approved', 'Your wallet is sending the payment. The marketplace will confirm when it arrives.']
    case 'AWAITING_APPROVAL':
      return ['Waiting for approval', 'Your wallet has not confirmed the approval yet.']
    case 'REJECTED':
      return ['Payment cancelled', 'You declined the payment in your wallet. Nothing was charged.']
    case 'EXPIRED':
      return ['Approval expired', 'The approval was not completed in time. Nothing was charged.']
    case 'FAILED':
      return ['Payment failed', `${payment.failureMessage ?? 'The payment could not be completed.'} Nothing was charged.`]
  }
}

export function renderFinishPage(payment: Payment): string {
  const [title, text] = headline(payment)
  const amount = describeAmounts(payment)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
h1{font-size:1.5rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;color:#4b5563}</style></head>
<body><h1>${escape(title)}</h1><p>${escape(text)}</p>
<dl><dt>Amount</dt><dd>${escape(amount)}</dd><dt>Order</dt><dd>${escape(payment.offerId)}</dd><dt>Reference</dt><dd>${escape(payment.id)}</dd></dl>
</body></html>`
}
