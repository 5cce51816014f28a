import { createHash, randomUUID } from 'node:crypto'
import { Hono } from 'hono'
import type { AccessItem, Grant, SandboxContext } from './context.js'
import { formatAmount } from './money.js'

/**
 * The consent side of an interactive grant: the page a person sees at `interact.redirect`, the
 * decision, and the redirect back to the client's finish URI with the parameters Rafiki sends.
 */

export function buildInteractRedirect(ctx: SandboxContext, grant: Grant): string {
  const interaction = grant.interaction!
  const client = describeClient(ctx, grant)
  // Same query as Rafiki's redirect, so clients that log or display it see the familiar shape.
  const query = new URLSearchParams({ clientName: client.name, clientUri: client.uri })
  return `${ctx.urls.origin}/interact/${interaction.id}/${interaction.nonce}?${query.toString()}`
}

/** Rafiki's finish hash: standard base64 (with padding) of SHA-256 over the four lines. */
export function computeFinishHash(clientNonce: string, serverNonce: string, interactRef: string, authServerUrl: string): string {
  return createHash('sha256').update(`${clientNonce}\n${serverNonce}\n${interactRef}\n${authServerUrl}`).digest('base64')
}

/** Appends parameters keeping the finish URI's own query; encodes `+`, `=` and spaces as Rafiki does. */
export function appendQuery(uri: string, params: Array<[string, string]>): string {
  const hashIndex = uri.indexOf('#')
  const base = hashIndex === -1 ? uri : uri.slice(0, hashIndex)
  const fragment = hashIndex === -1 ? '' : uri.slice(hashIndex)
  const added = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
  const separator = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?'
  return `${base}${separator}${added}${fragment}`
}

function findInteraction(ctx: SandboxContext, id: string, nonce: string): Grant | undefined {
  const grant = ctx.state.interactions.get(id)
  return grant?.interaction?.nonce === nonce ? grant : undefined
}

function isConsentExpired(ctx: SandboxContext, grant: Grant): boolean {
  const age = ctx.config.now().getTime() - grant.interaction!.createdAt.getTime()
  return age >= ctx.config.consentLifetimeMs
}

/** Where the browser goes next, given everything that has happened to the grant so far. */
export function resolveFinishUrl(ctx: SandboxContext, grant: Grant): string {
  const interaction = grant.interaction!
  const finish = (params: Array<[string, string]>) => appendQuery(interaction.finishUri, params)
  if (grant.state === 'revoked') return finish([['result', 'unknown_interaction'], ['message', 'unknown interaction']])
  if (interaction.decision === 'approved' && interaction.interactRef) {
    const hash = computeFinishHash(interaction.clientNonce, interaction.nonce, interaction.interactRef, ctx.urls.authServer)
    return finish([['hash', hash], ['interact_ref', interaction.interactRef]])
  }
  if (interaction.decision === 'rejected') return finish([['result', 'grant_rejected']])
  if (isConsentExpired(ctx, grant)) return finish([['result', 'invalid_interaction'], ['message', 'interaction expired']])
  return finish([['result', 'grant_invalid']])
}

/**
 * Records the person's choice (the first one wins; later ones change nothing) and returns the
 * finish URL. Throws if the interaction does not exist.
 */
export function decideInteraction(ctx: SandboxContext, id: string, nonce: string, accept: boolean): string {
  const grant = findInteraction(ctx, id, nonce)
  if (!grant) throw new Error(`unknown interaction ${id}`)
  const interaction = grant.interaction!
  if (grant.state === 'pending' && !interaction.decision && !isConsentExpired(ctx, grant)) {
    if (accept) {
      interaction.decision = 'approved'
      interaction.interactRef = randomUUID()
      grant.state = 'approved'
    } else {
      interaction.decision = 'rejected'
      grant.state = 'rejected'
    }
  }
  return resolveFinishUrl(ctx, grant)
}

/** Splits `http://host/interact/<id>/<nonce>?...` into its id and nonce. */
export function parseInteractRedirect(redirectUrl: string): { id: string; nonce: string } {
  const match = /\/interact\/([^/?#]+)\/([^/?#]+)/.exec(new URL(redirectUrl).pathname)
  if (!match) throw new Error(`not an interaction URL: ${redirectUrl}`)
  return { id: decodeURIComponent(match[1]), nonce: decodeURIComponent(match[2]) }
}

export function createConsentRoutes(ctx: SandboxContext): Hono {
  const app = new Hono()

  app.get('/:id/:nonce', (c) => {
    const grant = findInteraction(ctx, c.req.param('id'), c.req.param('nonce'))
    if (!grant) return c.html(renderMessagePage('Unknown interaction', 'This payment request does not exist.'), 404)
    if (grant.state !== 'pending' || isConsentExpired(ctx, grant)) return c.redirect(resolveFinishUrl(ctx, grant), 302)
    return c.html(renderConsentPage(ctx, grant))
  })

  app.post('/:id/:nonce/finish', async (c) => {
    const form = await c.req.parseBody()
    const accept = form['accept'] === 'true'
    try {
      return c.redirect(decideInteraction(ctx, c.req.param('id'), c.req.param('nonce'), accept), 302)
    } catch {
      return c.html(renderMessagePage('Unknown interaction', 'This payment request does not exist.'), 404)
    }
  })

  // Reaching finish without choosing (a bookmarked or guessed link) gets grant_invalid, as Rafiki.
  app.get('/:id/:nonce/finish', (c) => {
    const grant = findInteraction(ctx, c.req.param('id'), c.req.param('nonce'))
    if (!grant) return c.html(renderMessagePage('Unknown interaction', 'This payment request does not exist.'), 404)
    return c.redirect(resolveFinishUrl(ctx, grant), 302)
  })

  return app
}

function describeClient(ctx: SandboxContext, grant: Grant): { name: string; uri: string } {
  const uri = grant.clientWallet ?? ''
  const walletName = uri ? ctx.urls.walletNameOf(uri) : undefined
  const wallet = walletName ? ctx.state.wallets.get(walletName) : undefined
  return { name: wallet?.publicName ?? uri, uri }
}

/**
 * What the payee gets, when it is in another asset than what leaves the payer's wallet (a
 * cross-currency payment): the receiver's amount. Undefined when there is nothing else to say.
 */
function describeReceiveAmount(ctx: SandboxContext, item: AccessItem | undefined): string | undefined {
  const debit = item?.limits?.debitAmount
  const incoming = item?.limits?.receiver ? ctx.state.incomingPayments.get(item.limits.receiver) : undefined
  const receive = item?.limits?.receiveAmount ?? incoming?.incomingAmount
  if (!debit || !receive || debit.assetCode === receive.assetCode) return undefined
  return formatAmount(receive)
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

function renderConsentPage(ctx: SandboxContext, grant: Grant): string {
  const interaction = grant.interaction!
  const item = grant.access.find((a) => a.type === 'outgoing-payment')
  const client = describeClient(ctx, grant)
  const payerName = item?.identifier ? ctx.urls.walletNameOf(item.identifier) : undefined
  const payer = payerName ? ctx.state.wallets.get(payerName) : undefined
  const limit = item?.limits?.debitAmount ?? item?.limits?.receiveAmount
  // The debit, in the payer's own asset: what leaves this wallet.
  const amount = limit ? formatAmount(limit) : 'No amount limit'
  const receiveAmount = describeReceiveAmount(ctx, item)
  const amountNote = item?.limits?.debitAmount ? 'at most, fees included' : limit ? 'for the receiver' : ''
  const action = `/interact/${encodeURIComponent(interaction.id)}/${encodeURIComponent(interaction.nonce)}/finish`
  const e = escapeHtml
  return renderWalletPage(
    'Approve payment',
    `<p class="eyebrow">Payment request</p>
<h1 id="client"><span class="who">${e(client.name)}</span> asks to send money from your wallet</h1>
<p class="origin">${e(client.uri)}</p>
<div class="amount-box"><span class="label">Amount</span><strong id="amount">${e(amount)}</strong>${amountNote ? `<span class="label">${amountNote}</span>` : ''}</div>
<dl>
<dt>From your wallet</dt><dd id="payer"><strong>${e(payer?.publicName ?? 'Your wallet')}</strong><span>${e(item?.identifier ?? '')}</span></dd>
<dt>To</dt><dd id="payee">${describePayeeHtml(ctx, item?.limits?.receiver)}</dd>
${receiveAmount ? `<dt>They receive</dt><dd id="receive-amount"><strong>${e(receiveAmount)}</strong></dd>\n` : ''}</dl>
<form method="post" action="${e(action)}" class="decision">
<button type="submit" name="accept" value="false" class="reject">Reject</button>
<button type="submit" name="accept" value="true" class="approve">Approve</button>
</form>
<p class="fine">Approving lets ${e(client.name)} take this amount once. Nothing moves if you reject.</p>`,
  )
}

function describePayeeHtml(ctx: SandboxContext, receiver: string | undefined): string {
  if (!receiver) return '<strong>Any receiver</strong>'
  const incoming = ctx.state.incomingPayments.get(receiver)
  const walletName = incoming ? ctx.urls.walletNameOf(incoming.wallet) : undefined
  const wallet = walletName ? ctx.state.wallets.get(walletName) : undefined
  return wallet ? `<strong>${escapeHtml(wallet.publicName)}</strong><span>${escapeHtml(incoming!.wallet)}</span>` : `<span>${escapeHtml(receiver)}</span>`
}

const WALLET_STYLE = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;background:#eef2ff;color:#111827;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#312e81;color:#fff;padding:.875rem 1.25rem;display:flex;align-items:center;gap:.5rem;font-weight:600}
header .logo{width:1.75rem;height:1.75rem;border-radius:8px;background:#818cf8;display:inline-flex;align-items:center;justify-content:center;font-size:.875rem}
header .tag{margin-left:auto;font-size:.75rem;font-weight:500;background:rgba(255,255,255,.15);padding:.125rem .5rem;border-radius:999px}
main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:16px;box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(49,46,129,.08);padding:1.75rem 1.5rem}
@media (max-width:480px){main{margin:0;border-radius:0;box-shadow:none;min-height:calc(100vh - 3.5rem)}}
.eyebrow{margin:0;color:#4f46e5;font-size:.8125rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
h1{font-size:1.375rem;line-height:1.3;margin:.25rem 0 .25rem}
.origin{margin:0 0 1.25rem;color:#6b7280;font-size:.875rem;overflow-wrap:anywhere}
.amount-box{background:#f5f3ff;border-radius:12px;padding:1rem;text-align:center;margin-bottom:1.25rem;display:flex;flex-direction:column}
.amount-box strong{font-size:1.75rem;line-height:1.2;overflow-wrap:anywhere;font-variant-numeric:tabular-nums}
.label{color:#6b7280;font-size:.8125rem}
dl{margin:0 0 1.5rem;display:grid;gap:.75rem}
dt{color:#6b7280;font-size:.8125rem}
dd{margin:-.5rem 0 0;display:flex;flex-direction:column;overflow-wrap:anywhere}
dd span{color:#6b7280;font-size:.8125rem}
.decision{display:flex;gap:.75rem}
.decision button{flex:1;min-height:3rem;border-radius:10px;font:600 1rem system-ui,sans-serif;cursor:pointer}
.approve{background:#4f46e5;color:#fff;border:0}
.approve:hover{background:#4338ca}
.reject{background:#fff;color:#b91c1c;border:1.5px solid #fca5a5}
.reject:hover{background:#fef2f2}
.decision button:focus-visible{outline:3px solid #a5b4fc;outline-offset:2px}
.fine{margin:1rem 0 0;color:#6b7280;font-size:.8125rem;text-align:center}
`

/** The sandbox wallet's page frame: its own look, phone-ready. */
function renderWalletPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Sandbox wallet</title>
<link rel="icon" href="data:,"><style>${WALLET_STYLE}</style></head>
<body><header><span class="logo" aria-hidden="true">SW</span>Sandbox wallet<span class="tag">test money</span></header>
<main>${body}</main>
</body>
</html>`
}

function renderMessagePage(title: string, message: string): string {
  return renderWalletPage(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`)
}
