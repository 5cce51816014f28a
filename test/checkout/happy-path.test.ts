import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, SELLER_ID, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

describe('checkout over REST', () => {
  it('starts: incoming payment, quote and interactive grant; answers the contract and original fields', async () => {
    const res = await world.start({}, { offerId: '123' })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(Object.keys(body)).toEqual([
      'success', 'pendingId', 'redirectUrl', 'paymentUrl', 'incomingPaymentId', 'quoteId', 'amount', 'assetCode',
      // additions to the original contract: the quote the buyer approves
      'debitAmount', 'receiveAmount', 'quoteExpiresAt',
    ])
    expect(body).toMatchObject({
      success: true,
      amount: '100',
      assetCode: 'USD',
      debitAmount: { value: '100', assetCode: 'USD', assetScale: 2 },
      receiveAmount: { value: '100', assetCode: 'USD', assetScale: 2 },
    })
    expect(new Date(body.quoteExpiresAt).getTime()).toBeGreaterThan(Date.now())
    expect(body.pendingId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(body.paymentUrl).toBe(body.redirectUrl)
    expect(body.redirectUrl).toContain(`${world.sandbox.origin}/interact/`)

    const row = await world.service.db.payment.findUniqueOrThrow({ where: { id: body.pendingId } })
    expect(row).toMatchObject({ state: 'AWAITING_APPROVAL', amount: '100', assetCode: 'USD', assetScale: 2, offerId: '123', sellerId: SELLER_ID })
    // Secrets at rest are encrypted, and the client nonce is not the public id.
    expect(row.continueToken).toMatch(/^v1\./)
    expect(row.clientNonce).toMatch(/^v1\./)
    expect(row.clientNonce).not.toContain(body.pendingId)

    const status = await (await world.service.request(`/payments/${body.pendingId}/status`)).json()
    expect(status).toEqual({
      pendingId: body.pendingId,
      offerId: '123',
      status: 'pending',
      buyerWalletAddressUrl: world.buyer,
      incomingPaymentId: body.incomingPaymentId,
      quoteId: body.quoteId,
    })
  })

  it('finishes after approval: hash verified, grant continued once, one outgoing payment, then paid', async () => {
    const { pendingId, redirectUrl } = await world.startOk({ amount: '2500' }, 'job-42')
    const finishUrl = await world.approve(redirectUrl)
    expect(finishUrl).toContain(`pendingId=${pendingId}`)
    expect(finishUrl).toMatch(/hash=.*interact_ref=/)

    const res = await fetch(finishUrl)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.ok).toBe(true)
    expect(body.outgoingPayment).toMatchObject({
      walletAddress: world.buyer,
      receiveAmount: { value: '2500', assetCode: 'USD', assetScale: 2 },
      metadata: { pendingId, offerId: 'job-42' },
    })
    expect(body.outgoingPayment.id).toContain('/outgoing-payments/')

    const made = world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)
    expect(made).toHaveLength(1)

    // The settlement worker sees the money arrive at the seller, then the payment is paid.
    await expect.poll(async () => (await (await world.service.request(`/payments/${pendingId}/status`)).json()).status, { timeout: 10_000 }).toBe('paid')
    const status = await (await world.service.request(`/payments/${pendingId}/status`)).json()
    expect(status.outgoingPaymentId).toBe(body.outgoingPayment.id)
    expect(world.sandbox.balanceOf('buyer')).toBe(1_000_000n - 2500n)
    expect(await world.invalidResponses()).toEqual([])
  })

  it('answers a browser with a human page', async () => {
    const { redirectUrl } = await world.startOk({}, 'job-html')
    const res = await fetch(await world.approve(redirectUrl), { headers: { accept: 'text/html' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    expect(html).toMatch(/Sending your payment|Payment complete/)
    expect(html).toContain('1.00 USD')
    expect(html).not.toContain('seller receives') // one amount: buyer and seller hold the same currency
  })

  it('sends a browser back to the marketplace return URL with the outcome', async () => {
    const { pendingId, redirectUrl } = await world.startOk({ returnUrl: 'https://marketplace.example/jobs/9/funded?src=pay' }, 'job-return')
    const res = await fetch(await world.approve(redirectUrl), { headers: { accept: 'text/html' }, redirect: 'manual' })
    expect(res.status).toBe(303)
    const location = new URL(res.headers.get('location')!)
    expect(location.origin + location.pathname).toBe('https://marketplace.example/jobs/9/funded')
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ src: 'pay', pendingId, offerId: 'job-return', status: 'pending', state: 'PROCESSING' })

    const rejected = await world.startOk({ returnUrl: 'https://marketplace.example/jobs/10' }, 'job-return-2')
    const back = await fetch(await world.reject(rejected.redirectUrl), { headers: { accept: 'text/html' }, redirect: 'manual' })
    expect(new URL(back.headers.get('location')!).searchParams.get('state')).toBe('REJECTED')
  })

  it('never logs tokens, nonces, hashes or interaction references', async () => {
    const { redirectUrl } = await world.startOk({}, 'job-logs')
    const finishUrl = await world.approve(redirectUrl)
    await fetch(finishUrl)
    const query = new URL(finishUrl).searchParams
    const logs = world.service.logs.join('\n')
    expect(logs).not.toContain(query.get('interact_ref')!)
    expect(logs).not.toContain(query.get('hash')!)
    expect(logs).not.toContain(encodeURIComponent(query.get('hash')!))
  })
})

describe('checkout over GraphQL', () => {
  const START = `mutation ($input: StartCheckoutInput!) {
    startCheckout(input: $input) {
      __typename
      ... on StartCheckoutPayload {
        redirectUrl
        quote { id debitAmount { value assetCode assetScale } receiveAmount { value assetCode assetScale } expiresAt }
        payment { pendingId state status amount { value assetCode assetScale } }
      }
      ... on Error { code message }
    }
  }`
  const FINISH = `mutation ($input: FinishCheckoutInput!) {
    finishCheckout(input: $input) {
      __typename
      ... on FinishCheckoutPayload { payment { pendingId state status outgoingPaymentId outgoingPayment } }
      ... on Error { code message }
    }
  }`

  it('starts with the quote shown to the buyer, and finishes with the redirect parameters', async () => {
    const started = await world.service.graphql(START, {
      input: { offerId: 'gql-1', sellerId: SELLER_ID, buyerWalletAddressUrl: world.buyer, amount: '150' },
    })
    const payload = started.data.startCheckout
    expect(payload.__typename).toBe('StartCheckoutPayload')
    expect(payload.quote.debitAmount).toEqual({ value: '150', assetCode: 'USD', assetScale: 2 })
    expect(payload.quote.receiveAmount).toEqual({ value: '150', assetCode: 'USD', assetScale: 2 })
    expect(new Date(payload.quote.expiresAt).getTime()).toBeGreaterThan(Date.now())
    expect(payload.payment).toMatchObject({ state: 'AWAITING_APPROVAL', status: 'pending', amount: { value: '150' } })

    const finishUrl = new URL(await world.approve(payload.redirectUrl))
    const finished = await world.service.graphql(FINISH, {
      input: {
        pendingId: payload.payment.pendingId,
        hash: finishUrl.searchParams.get('hash'),
        interactRef: finishUrl.searchParams.get('interact_ref'),
      },
    })
    expect(finished.data.finishCheckout.__typename).toBe('FinishCheckoutPayload')
    expect(['PROCESSING', 'COMPLETED']).toContain(finished.data.finishCheckout.payment.state)
    expect(finished.data.finishCheckout.payment.outgoingPayment.receiveAmount.value).toBe('150')

    const query = await world.service.graphql(
      `query ($id: String!) { payment(pendingId: $id) { pendingId offerId seller { sellerId } } offer(offerId: "gql-1") { payments { edges { node { pendingId } } } } }`,
      { id: payload.payment.pendingId },
    )
    expect(query.data.payment).toEqual({ pendingId: payload.payment.pendingId, offerId: 'gql-1', seller: { sellerId: SELLER_ID } })
    expect(query.data.offer.payments.edges).toEqual([{ node: { pendingId: payload.payment.pendingId } }])
  })

  it('returns typed errors for bad input', async () => {
    const res = await world.service.graphql(START, { input: { offerId: 'gql-2', sellerId: SELLER_ID, buyerWalletAddressUrl: world.buyer, amount: '1.5' } })
    expect(res.data.startCheckout).toMatchObject({ __typename: 'AppError', code: 'INVALID_AMOUNT' })
  })
})
