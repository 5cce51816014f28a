// Every refusal PROTOCOL.md lists, as the sandbox must give it: status, GNAP/Open Payments code,
// and no side effect. Expiries run on the sandbox's test clock, never on real sleeps.
import { beforeEach, describe, expect, it } from 'vitest'
import { generateJwk, generateKey } from '@interledger/http-signature-utils'
import { isPendingGrant } from '@interledger/open-payments'
import {
  approveAndContinue,
  expectClientError,
  FINISH_URI,
  prepareCheckout,
  requestToken,
  resourceServerOf,
  type TestSandbox,
  useTestSandbox,
} from './sandbox-harness.js'

const sandboxes = useTestSandbox()
let t: TestSandbox
beforeEach(() => {
  t = sandboxes.current()
})

describe('continuation', () => {
  it('answers 400 too_fast before wait, then continues once and 404 invalid_continuation after', async () => {
    const checkout = await prepareCheckout(t)
    const { grant, client } = checkout
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    const interactRef = new URL(await t.sandbox.approve(grant.interact.redirect)).searchParams.get('interact_ref')!
    const args = { url: grant.continue.uri, accessToken: grant.continue.access_token.value }
    t.clock.advance(4_900)
    await expectClientError(client.grant.continue(args, { interact_ref: interactRef }), 400, 'too_fast')
    t.clock.advance(100)
    const first = await client.grant.continue(args, { interact_ref: interactRef })
    expect('access_token' in first && first.access_token?.value).toBeTruthy()
    await expectClientError(client.grant.continue(args, { interact_ref: interactRef }), 404, 'invalid_continuation')
    expect(t.sandbox.counts().continuations).toBe(1)
  })

  it('refuses a wrong interact_ref and a wrong continuation token', async () => {
    const { grant, client } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    await t.sandbox.approve(grant.interact.redirect)
    t.clock.advance(5_000)
    const url = grant.continue.uri
    await expectClientError(client.grant.continue({ url, accessToken: grant.continue.access_token.value }, { interact_ref: 'forged' }), 404, 'invalid_continuation')
    await expectClientError(client.grant.continue({ url, accessToken: 'NOT-THE-TOKEN' }, { interact_ref: 'x' }), 404, 'invalid_continuation')
    expect(t.sandbox.counts().continuations).toBe(0)
  })
})

async function createOutgoing(checkout: Awaited<ReturnType<typeof prepareCheckout>>, accessToken: string) {
  return checkout.client.outgoingPayment.create(
    { url: resourceServerOf(t), accessToken },
    { walletAddress: t.sandbox.walletAddressUrl('buyer'), quoteId: checkout.quote.id },
  )
}

describe('outgoing payment refusals', () => {
  it('refuses an expired quote with 400', async () => {
    const checkout = await prepareCheckout(t)
    const token = await approveAndContinue(t, checkout)
    t.clock.advance(5 * 60_000)
    await expectClientError(createOutgoing(checkout, token.value), 400)
    expect(t.sandbox.counts().outgoingPayments).toBe(0)
  })

  it('refuses 403 beyond the grant debitAmount and for another receiver', async () => {
    const port = new URL(t.sandbox.origin).port
    for (const limits of [
      { debitAmount: { value: '99', assetCode: 'USD', assetScale: 2 } },
      { receiver: `https://localhost:${port}/rs/incoming-payments/someone-else` },
    ]) {
      const checkout = await prepareCheckout(t, { limits })
      const token = await approveAndContinue(t, checkout)
      await expectClientError(createOutgoing(checkout, token.value), 403)
    }
    expect(t.sandbox.counts().outgoingPayments).toBe(0)
  })
})

describe('signatures', () => {
  it('answers 401 invalid_client for a signature by another key under a known key id', async () => {
    t.sandbox.addClientKey('seller', generateJwk({ privateKey: generateKey(), keyId: 'imposter' }))
    const client = await t.clientFor('seller', { keyId: 'imposter', publish: false })
    const err = await expectClientError(
      client.grant.request({ url: `${t.sandbox.origin}/auth` }, { access_token: { access: [{ type: 'quote', actions: ['create'] }] } }),
      401,
      'invalid_client',
    )
    expect(err.description).toBe('invalid signature')
    expect(t.sandbox.counts().grants).toBe(0)
  })

  it('answers 400 invalid_client for an unknown key id', async () => {
    const client = await t.clientFor('seller', { keyId: 'never-published', publish: false })
    const err = await expectClientError(
      client.grant.request({ url: `${t.sandbox.origin}/auth` }, { access_token: { access: [{ type: 'quote', actions: ['create'] }] } }),
      400,
      'invalid_client',
    )
    expect(err.description).toBe('could not determine client')
  })

  it('refuses unsigned grant and resource requests', async () => {
    const body = JSON.stringify({ access_token: { access: [{ type: 'quote', actions: ['create'] }] }, client: t.sandbox.walletAddressUrl('seller') })
    const grant = await fetch(`${t.sandbox.origin}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(grant.status).toBe(401)
    expect((await grant.json()).error.code).toBe('invalid_client')

    const client = await t.clientFor('seller')
    const token = await requestToken(t, client, [{ type: 'incoming-payment', actions: ['create', 'read'] }])
    const resource = await fetch(`${t.sandbox.origin}/rs/incoming-payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `GNAP ${token.value}` },
      body: JSON.stringify({ walletAddress: t.sandbox.walletAddressUrl('seller') }),
    })
    expect(resource.status).toBe(401)
    expect(t.sandbox.counts().incomingPayments).toBe(0)
  })
})

describe('access tokens', () => {
  it('expires tokens (401), rotates them at manage and revokes them', async () => {
    const client = await t.clientFor('seller')
    const token = await requestToken(t, client, [{ type: 'incoming-payment', actions: ['create', 'read'] }])
    expect(token.expires_in).toBe(600)
    const create = (accessToken: string) =>
      client.incomingPayment.create(
        { url: resourceServerOf(t), accessToken },
        { walletAddress: t.sandbox.walletAddressUrl('seller'), incomingAmount: { value: '5', assetCode: 'USD', assetScale: 2 } },
      )
    await create(token.value)
    t.clock.advance(600_000)
    await expectClientError(create(token.value), 401)

    const rotated = await client.token.rotate({ url: token.manage, accessToken: token.value })
    expect(rotated.access_token.value).not.toBe(token.value)
    expect(rotated.access_token.manage).not.toBe(token.manage)
    await create(rotated.access_token.value)
    await expectClientError(create(token.value), 401)
    await expectClientError(client.token.rotate({ url: token.manage, accessToken: token.value }), 404, 'invalid_rotation')

    await client.token.revoke({ url: rotated.access_token.manage, accessToken: rotated.access_token.value })
    await expectClientError(create(rotated.access_token.value), 401)
    expect(t.sandbox.counts().incomingPayments).toBe(2)
  })
})

describe('interaction outcomes', () => {
  it('expires consent: result=invalid_interaction&message=interaction expired', async () => {
    const { grant } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    t.clock.advance(10 * 60_000)
    const expired = `${FINISH_URI}&result=invalid_interaction&message=interaction%20expired`
    const page = await fetch(grant.interact.redirect, { redirect: 'manual' })
    expect(page.status).toBe(302)
    expect(page.headers.get('location')).toBe(expired)
    expect(await t.sandbox.approve(grant.interact.redirect)).toBe(expired)
  })

  it('answers result=grant_invalid when finish is reached before a decision', async () => {
    const { grant } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    const finish = new URL(grant.interact.redirect)
    finish.pathname += '/finish'
    finish.search = ''
    const answer = await fetch(finish, { redirect: 'manual' })
    expect(answer.status).toBe(302)
    expect(answer.headers.get('location')).toBe(`${FINISH_URI}&result=grant_invalid`)
  })

  it('answers result=unknown_interaction once the client revoked the grant', async () => {
    const { grant, client } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    await client.grant.cancel({ url: grant.continue.uri, accessToken: grant.continue.access_token.value })
    expect(await t.sandbox.approve(grant.interact.redirect)).toBe(`${FINISH_URI}&result=unknown_interaction&message=unknown%20interaction`)
  })
})

describe('funding', () => {
  async function createPayment() {
    const checkout = await prepareCheckout(t)
    const token = await approveAndContinue(t, checkout)
    const payment = await createOutgoing(checkout, token.value)
    const read = () => checkout.client.outgoingPayment.get({ url: payment.id, accessToken: token.value })
    return { ...checkout, payment, read }
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 100))

  it('fails the payment when the buyer balance is short, moving no money', async () => {
    t.sandbox.setBalance('buyer', 99n)
    const { read } = await createPayment()
    await settle()
    expect(await read()).toMatchObject({ failed: true, sentAmount: { value: '0' } })
    expect(t.sandbox.balanceOf('buyer')).toBe(99n)
    expect(t.sandbox.balanceOf('seller')).toBe(0n)
  })

  it('stays FUNDING in manual mode until funded, and records a partial receipt as failed', async () => {
    t.sandbox.setFundingMode('manual')
    const { payment, read } = await createPayment()
    await settle()
    expect(await read()).toMatchObject({ failed: false, sentAmount: { value: '0' } })
    t.sandbox.fundOutgoingPayment(payment.id, { receiveAmount: 40n })
    expect(await read()).toMatchObject({ failed: true, sentAmount: { value: '40' } })
    expect(t.sandbox.balanceOf('seller')).toBe(40n)
  })

  it('fails every payment in fail mode', async () => {
    t.sandbox.setFundingMode('fail')
    const { read } = await createPayment()
    await settle()
    expect(await read()).toMatchObject({ failed: true, sentAmount: { value: '0' } })
    expect(t.sandbox.balanceOf('buyer')).toBe(1_000_000n)
  })
})
