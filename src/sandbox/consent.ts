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

function describePayee(ctx: SandboxContext, receiver: string | undefined): string {
  if (!receiver) return 'any receiver'
  const incoming = ctx.state.incomingPayments.get(receiver)
  const walletName = incoming ? ctx.urls.walletNameOf(incoming.wallet) : undefined
  const wallet = walletName ? ctx.state.wallets.get(walletName) : undefined
  return wallet ? `${wallet.publicName} (${incoming!.wallet})` : receiver
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
  const amount = limit ? formatAmount(limit) : 'no amount limit'
  const receiveAmount = describeReceiveAmount(ctx, item)
  const action = `/interact/${encodeURIComponent(interaction.id)}/${encodeURIComponent(interaction.nonce)}/finish`
  const e = escapeHtml
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Approve payment - Sandbox wallet</title></head>
<body>
<h1>Approve a payment</h1>
<p id="client"><strong>${e(client.name)}</strong> (${e(client.uri)}) asks to send money from your wallet.</p>
<dl>
<dt>From (your wallet)</dt><dd id="payer">${e(payer?.publicName ?? '')} (${e(item?.identifier ?? '')})</dd>
<dt>To</dt><dd id="payee">${e(describePayee(ctx, item?.limits?.receiver))}</dd>
<dt>Amount</dt><dd id="amount">${e(amount)}</dd>
${receiveAmount ? `<dt>They receive</dt><dd id="receive-amount">${e(receiveAmount)}</dd>\n` : ''}</dl>
<form method="post" action="${e(action)}"><input type="hidden" name="accept" value="true"><button type="submit">Approve</button></form>
<form method="post" action="${e(action)}"><input type="hidden" name="accept" value="false"><button type="submit">Reject</button></form>
</body>
</html>`
}

function renderMessagePage(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`
}
