// What a buyer's browser sees after the wallet sends it back: a page that follows the payment
// until it is final (polling a small progress answer, or a plain refresh without scripts), or a
// redirect to the marketplace (the payment's returnUrl, else PAYMENT_RETURN_URL).
// The page and its progress answer open only with the checkout's finish secret
// (src/payments/finish-secret.ts), which the wallet redirect brings and every URL of the page
// carries; they show the same few things: no ids of wallet resources, no tokens, nothing the buyer
// does not already see. The shop's return URL never gets the secret.
import type { Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { describeAmounts, formatBuyerPrice } from './payment-amounts.js'
import { restStatusOf } from './state.js'

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** How often the page asks for progress (ms), and the no-script refresh (s). */
const POLL_MS = 1500
const REFRESH_SECONDS = 3

export function returnUrlFor(deps: Deps, payment: Payment): string | undefined {
  const base = payment.returnUrl ?? deps.config.paymentReturnUrl
  if (!base) return undefined
  const url = new URL(base)
  url.searchParams.set('pendingId', payment.id)
  url.searchParams.set('offerId', payment.offerId)
  url.searchParams.set('status', restStatusOf[payment.state])
  url.searchParams.set('state', payment.state)
  return url.href
}

/** The finish URI given to the wallet, which appends its own parameters and keeps these. */
export const finishRedirectPath = (pendingId: string, secret: string) => `/payments/finish?pendingId=${pendingId}&secret=${encodeURIComponent(secret)}`
export const finishPagePath = (pendingId: string, secret: string) => `/payments/finish/${pendingId}?secret=${encodeURIComponent(secret)}`
export const finishProgressPath = (pendingId: string, secret: string) => `/payments/finish/${pendingId}/progress?secret=${encodeURIComponent(secret)}`

/** Why a payment failed, said to the buyer. */
function failureReason(failureCode: string | null): string {
  switch (failureCode) {
    case 'FUNDING_FAILED':
    case 'OUTGOING_PAYMENT_REFUSED':
      return 'Your wallet could not send the payment.'
    case 'INCOMING_PAYMENT_CLOSED':
    case 'INCOMING_PAYMENT_EXPIRED':
      return "The seller's wallet stopped accepting this payment before it arrived."
    case 'GRANT_INVALID':
      return 'Your wallet ended the approval before you decided.'
    case 'INTERACTION_FAILED':
      return 'Your wallet could not start the approval.'
    case 'GRANT_REVOKED':
      return 'The approval was withdrawn before you decided.'
    case 'REQUEST_DENIED':
      return 'Your wallet declined the payment request.'
    case 'GRANT_CONTINUATION_FAILED':
    case 'GRANT_NOT_APPROVED':
      return 'Your wallet did not confirm your approval.'
    case 'QUOTE_EXPIRED':
      return 'The price changed while you were approving, to more than you approved.'
    case 'GRANT_SPENT':
      return 'Your wallet refused the payment: the approval was already used or is too small.'
    default:
      return 'The payment could not be completed.'
  }
}

export type Tone = 'success' | 'waiting' | 'stopped'

/** Everything the page shows about the payment's progress (also its public progress answer). */
export interface FinishProgress {
  state: Payment['state']
  final: boolean
  tone: Tone
  title: string
  message: string
  returnUrl?: string
}

export function describeProgress(deps: Deps, payment: Payment): FinishProgress {
  const amount = formatBuyerPrice(payment)
  const final = restStatusOf[payment.state] !== 'pending'
  const returnUrl = returnUrlFor(deps, payment)
  const view = (tone: Tone, title: string, message: string): FinishProgress => ({
    state: payment.state,
    final,
    tone,
    title,
    message,
    ...(returnUrl ? { returnUrl } : {}),
  })
  const movedMoney = [payment.receivedAmount, payment.sentAmount].some((value) => value && BigInt(value) > 0n)
  switch (payment.state) {
    case 'COMPLETED':
      return view('success', 'Payment complete', `You paid ${amount}. The seller has received it.`)
    case 'FINISHING':
    case 'PROCESSING':
      return view('waiting', 'Sending your payment', `You approved ${amount}. Your wallet is sending it now; this page updates by itself.`)
    case 'AWAITING_APPROVAL':
      return view('waiting', 'Waiting for your approval', 'You have not approved the payment in your wallet yet.')
    case 'REJECTED':
      return view('stopped', 'Payment cancelled', 'You declined the payment in your wallet. Nothing was charged.')
    case 'EXPIRED':
      return view('stopped', 'Approval expired', 'You did not approve the payment in time. Nothing was charged.')
    case 'FAILED':
      return view(
        'stopped',
        'Payment failed',
        `${failureReason(payment.failureCode)} ${movedMoney ? 'Part of it may have been sent: the shop can see this payment and will sort it out with you.' : 'Nothing was charged.'}`,
      )
  }
}

const icons: Record<Tone, string> = {
  success: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5" /></svg>',
  waiting: '<svg viewBox="0 0 24 24" aria-hidden="true" class="spin"><path d="M12 3a9 9 0 1 0 9 9" /></svg>',
  stopped: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 7l10 10M17 7L7 17" /></svg>',
}

const STYLE = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;padding:3rem 1rem;
  background:#f3f4f6;color:#111827;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:28rem;background:#fff;border-radius:16px;box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06);padding:2rem 1.5rem}
.icon{width:3.5rem;height:3.5rem;border-radius:50%;display:flex;align-items:center;justify-content:center;margin:0 auto 1rem}
.icon svg{width:1.75rem;height:1.75rem;fill:none;stroke:currentColor;stroke-width:2.5;stroke-linecap:round;stroke-linejoin:round}
[data-tone=success] .icon{background:#dcfce7;color:#15803d}
[data-tone=waiting] .icon{background:#e0e7ff;color:#4338ca}
[data-tone=stopped] .icon{background:#fee2e2;color:#b91c1c}
.spin{animation:spin 1s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spin{animation:none}}
h1{font-size:1.5rem;line-height:1.25;text-align:center;margin:0 0 .5rem}
.message{text-align:center;color:#374151;margin:0 0 1.5rem}
dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.5rem 1rem;margin:0;padding:1rem 0 0;border-top:1px solid #e5e7eb;font-size:.9375rem}
dt{color:#6b7280}
dd{margin:0;text-align:right;overflow-wrap:anywhere;font-variant-numeric:tabular-nums}
dd.amount{font-weight:600}
.reference{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8125rem}
.actions{margin-top:1.5rem}
.button{display:block;text-align:center;padding:.75rem 1rem;border-radius:10px;background:#166534;color:#fff;text-decoration:none;font-weight:600}
.button:focus-visible{outline:3px solid #86efac;outline-offset:2px}
.note{margin:1rem 0 0;text-align:center;color:#6b7280;font-size:.875rem}
[hidden]{display:none!important}
@media (min-width:640px){main{padding:2.5rem 2.5rem 2rem}body{padding-top:5rem}}
`

/** Follows the progress answer until the payment is final, updating the page in place. */
const SCRIPT = `
(() => {
  const main = document.querySelector('main')
  const progressUrl = main.dataset.progress
  if (!progressUrl) return
  const icons = ${JSON.stringify(icons)}
  if (location.pathname + location.search !== main.dataset.page) history.replaceState(null, '', main.dataset.page)
  let delay = ${POLL_MS}
  const show = (p) => {
    main.dataset.tone = p.tone
    main.dataset.state = p.state
    main.querySelector('.icon').innerHTML = icons[p.tone]
    main.querySelector('h1').textContent = p.title
    main.querySelector('.message').textContent = p.message
    document.title = p.title
    const back = main.querySelector('.button')
    if (p.returnUrl) { back.href = p.returnUrl; back.parentElement.hidden = false }
    main.querySelector('.note').hidden = p.final
  }
  const poll = async () => {
    try {
      const res = await fetch(progressUrl, { headers: { accept: 'application/json' }, cache: 'no-store' })
      if (res.ok) {
        const p = await res.json()
        show(p)
        if (p.final) return
      } else if (res.status === 404) return
    } catch {}
    delay = Math.min(delay * 1.2, 10000)
    setTimeout(poll, delay)
  }
  if (main.dataset.final !== 'true') setTimeout(poll, delay)
})()
`

/**
 * The buyer's page. With the checkout's (verified) finish secret it follows the payment from its
 * own URLs; without one (a payment started before finish secrets, answered from a hash-verified
 * redirect) it shows the state as it is now.
 */
export function renderFinishPage(deps: Deps, payment: Payment, secret: string | undefined): string {
  const progress = describeProgress(deps, payment)
  const amount = describeAmounts(payment)
  const own = secret === undefined ? undefined : { page: finishPagePath(payment.id, secret), progress: finishProgressPath(payment.id, secret) }
  const follows = own !== undefined && !progress.final
  // Without scripts the page reloads itself (its own clean URL) until the payment is final.
  const refresh = follows ? `<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS};url=${escape(own.page)}"></noscript>` : ''
  const urls = own ? ` data-page="${escape(own.page)}" data-progress="${escape(own.progress)}"` : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escape(progress.title)}</title>${refresh}
<link rel="icon" href="/favicon.ico">
<style>${STYLE}</style></head>
<body><main data-tone="${progress.tone}" data-state="${progress.state}" data-final="${progress.final}"${urls} aria-live="polite">
<div class="icon">${icons[progress.tone]}</div>
<h1>${escape(progress.title)}</h1>
<p class="message">${escape(progress.message)}</p>
<dl>
<dt>Amount</dt><dd class="amount">${escape(amount)}</dd>
<dt>Order</dt><dd>${escape(payment.offerId)}</dd>
<dt>Reference</dt><dd class="reference">${escape(payment.id)}</dd>
</dl>
<div class="actions"${progress.returnUrl ? '' : ' hidden'}><a class="button" href="${escape(progress.returnUrl ?? '#')}">Back to the shop</a></div>
<p class="note"${follows ? '' : ' hidden'}>This page updates by itself. You can also close it: the shop is told when the payment arrives.</p>
</main>
<script>${SCRIPT}</script>
</body></html>`
}

/** A finish link that cannot be used (unknown payment, forged or broken redirect), said plainly. */
export function renderFinishProblemPage(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Payment link problem</title>
<link rel="icon" href="/favicon.ico">
<style>${STYLE}</style></head>
<body><main data-tone="stopped">
<div class="icon">${icons.stopped}</div>
<h1>This payment link does not work</h1>
<p class="message">${escape(/[.!?]$/.test(message) ? message : `${message}.`)} If you were paying a shop, go back to it and start the payment again.</p>
</main></body></html>`
}
