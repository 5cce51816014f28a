// The happy path and the rejection path of PROTOCOL.md, driven with the official SDK against the
// sandbox, mirroring the shapes of the recorded Rafiki flow (transcript/reference-flow.log).
import crypto from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { isPendingGrant, type AuthenticatedClient } from '@interledger/open-payments'
import { waitFor } from '../harness.js'
import { expectClientError, FINISH_URI, prepareCheckout, type TestSandbox, useTestSandbox } from './sandbox-harness.js'

const sandboxes = useTestSandbox()
let t: TestSandbox
beforeEach(() => {
  t = sandboxes.current()
})

function expectedHash(clientNonce: string, serverNonce: string, interactRef: string, authServer: string): string {
  return crypto.createHash('sha256').update([clientNonce, serverNonce, interactRef, authServer].join('\n')).digest('base64')
}

describe('wallet addresses', () => {
  it('answers the wallet address and publishes the client keys', async () => {
    const client = await t.clientFor('seller', { keyId: 'seller-key-1' })
    const origin = t.sandbox.origin
    const port = new URL(origin).port
    expect(await client.walletAddress.get({ url: t.sandbox.walletAddressUrl('seller') })).toEqual({
      id: `https://localhost:${port}/seller`,
      publicName: 'Seller Shop',
      assetCode: 'USD',
      assetScale: 2,
      authServer: `http://localhost:${port}/auth`,
      resourceServer: `https://localhost:${port}/rs`,
    })
    const jwks = await client.walletAddress.getKeys({ url: t.sandbox.walletAddressUrl('seller') })
    expect(jwks.keys.map((k) => k.kid)).toEqual(['seller-key-1'])
    expect(jwks.keys[0]).not.toHaveProperty('d')
    const missing = await fetch(`${origin}/nobody`)
    expect(missing.status).toBe(404)
  })

  it('keeps the reserved names for itself', () => {
    for (const name of ['auth', 'rs', 'sandbox', 'interact']) {
      expect(() => t.sandbox.addWallet({ name })).toThrow(/invalid wallet name/)
    }
  })
})

describe('approved checkout', () => {
  it('runs grant, consent, hash, continue, outgoing payment and funding to completion', async () => {
    const { client, incomingPayment, quote, clientNonce, grant } = await prepareCheckout(t)
    const origin = t.sandbox.origin
    expect(quote.debitAmount).toEqual({ value: '100', assetCode: 'USD', assetScale: 2 })
    expect(quote.receiveAmount).toEqual({ value: '100', assetCode: 'USD', assetScale: 2 })
    expect(new Date(quote.expiresAt!).getTime() - t.clock.now().getTime()).toBeGreaterThan(4.9 * 60_000)

    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    expect(grant.interact.redirect.startsWith(`${origin}/interact/`)).toBe(true)
    expect(grant.continue.wait).toBe(5)

    const finishUrl = await t.sandbox.approve(grant.interact.redirect)
    // Appended to the client's own query, hash URL-encoded as Rafiki sends it.
    expect(finishUrl.startsWith(`${FINISH_URI}&hash=`)).toBe(true)
    expect(finishUrl).toMatch(/%3D&interact_ref=/)
    const query = new URL(finishUrl).searchParams
    // The finish URI's own parameters are kept as they were.
    expect(query.get('pendingId')).toBe(new URL(FINISH_URI).searchParams.get('pendingId'))
    expect(query.get('secret')).toBe(new URL(FINISH_URI).searchParams.get('secret'))
    const interactRef = query.get('interact_ref')!
    expect(query.get('hash')).toBe(expectedHash(clientNonce, grant.interact.finish, interactRef, `${origin}/auth`))

    t.clock.advance(5_000)
    const continued = await client.grant.continue(
      { url: grant.continue.uri, accessToken: grant.continue.access_token.value },
      { interact_ref: interactRef },
    )
    if (!('access_token' in continued) || !continued.access_token) throw new Error('expected an access token')
    expect(continued.access_token.expires_in).toBe(600)
    expect(continued.access_token.manage).toMatch(new RegExp(`^${origin}/auth/token/`))
    const token = continued.access_token.value

    const buyerUrl = t.sandbox.walletAddressUrl('buyer')
    const outgoing = await client.outgoingPayment.create(
      { url: `https://localhost:${new URL(origin).port}/rs`, accessToken: token },
      { walletAddress: buyerUrl, quoteId: quote.id, metadata: { pendingId: 'p-1' } },
    )
    expect(outgoing).toMatchObject({
      walletAddress: buyerUrl,
      quoteId: quote.id,
      receiver: incomingPayment.id,
      failed: false,
      sentAmount: { value: '0', assetCode: 'USD', assetScale: 2 },
      metadata: { pendingId: 'p-1' },
      grantSpentDebitAmount: { value: '0', assetCode: 'USD', assetScale: 2 },
    })

    const paid = await waitFor(async () => {
      const payment = await client.outgoingPayment.get({ url: outgoing.id, accessToken: token })
      return payment.sentAmount.value === '100' && payment
    }, 3000)
    expect(paid.failed).toBe(false)
    expect(t.sandbox.balanceOf('buyer')).toBe(1_000_000n - 100n)
    expect(t.sandbox.balanceOf('seller')).toBe(100n)

    const sellerGrant = await client.grant.request(
      { url: `${origin}/auth` },
      { access_token: { access: [{ type: 'incoming-payment', actions: ['read'] }] } },
    )
    if (!('access_token' in sellerGrant) || !sellerGrant.access_token) throw new Error('expected a token')
    const received = await client.incomingPayment.get({ url: incomingPayment.id, accessToken: sellerGrant.access_token.value })
    expect(received).toMatchObject({ completed: true, receivedAmount: { value: '100' }, methods: [] })
    expect(received.metadata).toEqual({ description: 'sandbox order', externalRef: 'order-1' })

    const listed = await client.outgoingPayment.list({ url: `https://localhost:${new URL(origin).port}/rs`, walletAddress: buyerUrl, accessToken: token })
    expect(listed.result.map((p) => [p.id, p.metadata])).toEqual([[outgoing.id, { pendingId: 'p-1' }]])
    expect(t.sandbox.outgoingPayments()).toEqual([
      { id: outgoing.id, walletAddress: buyerUrl, quoteId: quote.id, metadata: { pendingId: 'p-1' }, failed: false, sentAmount: '100' },
    ])
    expect(t.sandbox.counts()).toEqual({ incomingPayments: 1, quotes: 1, outgoingPayments: 1, grants: 4, continuations: 1 })

    // Transcript STEP 14: a second payment on the exhausted grant is refused with 403.
    const quoteGrant = await client.grant.request({ url: `${origin}/auth` }, { access_token: { access: [{ type: 'quote', actions: ['create'] }] } })
    if (!('access_token' in quoteGrant) || !quoteGrant.access_token) throw new Error('expected a token')
    const anotherQuote = await createQuoteFor(t, client, quoteGrant.access_token.value)
    await expectClientError(
      client.outgoingPayment.create({ url: `https://localhost:${new URL(origin).port}/rs`, accessToken: token }, { walletAddress: buyerUrl, quoteId: anotherQuote.id }),
      403,
    )
    expect(t.sandbox.counts().outgoingPayments).toBe(1)
  })

  it('adds the configured fee on top of what the receiver gets', async () => {
    t = await sandboxes.restart({ quoteFee: { fixed: 5n, basisPoints: 100 } })
    const { quote } = await prepareCheckout(t, { amount: '1000' })
    expect(quote.receiveAmount.value).toBe('1000')
    expect(quote.debitAmount.value).toBe('1015')
  })
})

// A completed receiver cannot be quoted again, so the spent-grant check needs a fresh receiver.
async function createQuoteFor(t: TestSandbox, client: AuthenticatedClient, quoteToken: string) {
  const origin = t.sandbox.origin
  const incomingGrant = await client.grant.request(
    { url: `${origin}/auth` },
    { access_token: { access: [{ type: 'incoming-payment', actions: ['create'] }] } },
  )
  if (!('access_token' in incomingGrant) || !incomingGrant.access_token) throw new Error('expected a token')
  const rs = `https://localhost:${new URL(origin).port}/rs`
  const incoming = await client.incomingPayment.create(
    { url: rs, accessToken: incomingGrant.access_token.value },
    { walletAddress: t.sandbox.walletAddressUrl('seller'), incomingAmount: { value: '50', assetCode: 'USD', assetScale: 2 } },
  )
  return client.quote.create(
    { url: rs, accessToken: quoteToken },
    { walletAddress: t.sandbox.walletAddressUrl('buyer'), receiver: incoming.id, method: 'ilp' },
  )
}

describe('rejected checkout', () => {
  it('redirects with result=grant_rejected and refuses to continue', async () => {
    const { client, grant } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    expect(await t.sandbox.reject(grant.interact.redirect)).toBe(`${FINISH_URI}&result=grant_rejected`)
    t.clock.advance(5_000)
    await expectClientError(
      client.grant.continue({ url: grant.continue.uri, accessToken: grant.continue.access_token.value }, { interact_ref: 'anything' }),
      404,
      'invalid_continuation',
    )
    expect(t.sandbox.counts().continuations).toBe(0)
  })
})

describe('consent page', () => {
  it('shows who pays whom and how much, and its buttons redirect like the reference', async () => {
    const { grant } = await prepareCheckout(t, { amount: '12345' })
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    const page = await fetch(grant.interact.redirect)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const html = await page.text()
    expect(html).toContain('Seller Shop')
    expect(html).toContain(t.sandbox.walletAddressUrl('seller'))
    expect(html).toContain(t.sandbox.walletAddressUrl('buyer'))
    expect(html).toContain('123.45 USD')
    expect(html).toMatch(/<button type="submit" name="accept" value="true"[^>]*>Approve<\/button>/)
    expect(html).toMatch(/<button type="submit" name="accept" value="false"[^>]*>Reject<\/button>/)
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">')

    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]
    const answer = await fetch(new URL(action.replaceAll('&amp;', '&'), t.sandbox.origin), {
      method: 'POST',
      body: new URLSearchParams({ accept: 'false' }),
      redirect: 'manual',
    })
    expect(answer.status).toBe(302)
    expect(answer.headers.get('location')).toBe(`${FINISH_URI}&result=grant_rejected`)
  })

  it('escapes what clients and wallets put in their names', async () => {
    t = await sandboxes.restart({})
    t.sandbox.addWallet({ name: 'evil', publicName: '<script>alert("x")</script>' })
    const client = await t.clientFor('evil')
    const { grant } = await prepareCheckout(t, { client })
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    const html = await (await fetch(grant.interact.redirect)).text()
    expect(html).not.toContain('<script>')
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
  })
})
