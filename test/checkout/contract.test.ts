// Every REST shape, field by field, against ../shared/contract/payments-service-api.md and the
// fields the original implementation answered (../shared/contract/original-responses.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../harness.js'
import { startCheckoutWorld, SELLER_ID, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
let paid: { pendingId: string; outgoingPaymentId: string; incomingPaymentId: string; quoteId: string }
let pending: { pendingId: string; incomingPaymentId: string; quoteId: string }

beforeAll(async () => {
  world = await startCheckoutWorld()
  const a = await world.startOk({ amount: '100' }, 'offer-a')
  const finished = await (await fetch(await world.approve(a.redirectUrl))).json()
  paid = { pendingId: a.pendingId, outgoingPaymentId: finished.outgoingPayment.id, incomingPaymentId: a.incomingPaymentId as string, quoteId: a.quoteId as string }
  const b = await world.startOk({ amount: '250' }, 'offer-a')
  pending = { pendingId: b.pendingId, incomingPaymentId: b.incomingPaymentId as string, quoteId: b.quoteId as string }
  await waitFor(async () => (await (await world.service.request(`/payments/${paid.pendingId}/status`)).json()).status === 'paid')
})
afterAll(() => world.close())

const get = async (path: string) => {
  const res = await world.service.request(path)
  return { status: res.status, body: await res.json() }
}

describe('GET /payments/:pendingId/status', () => {
  it('answers the documented fields in order; outgoingPaymentId once known', async () => {
    const { status, body } = await get(`/payments/${paid.pendingId}/status`)
    expect(status).toBe(200)
    expect(Object.keys(body)).toEqual(['pendingId', 'offerId', 'status', 'buyerWalletAddressUrl', 'incomingPaymentId', 'outgoingPaymentId', 'quoteId'])
    expect(body).toEqual({
      pendingId: paid.pendingId,
      offerId: 'offer-a',
      status: 'paid',
      buyerWalletAddressUrl: world.buyer,
      incomingPaymentId: paid.incomingPaymentId,
      outgoingPaymentId: paid.outgoingPaymentId,
      quoteId: paid.quoteId,
    })
    const open = await get(`/payments/${pending.pendingId}/status`)
    expect(Object.keys(open.body)).toEqual(['pendingId', 'offerId', 'status', 'buyerWalletAddressUrl', 'incomingPaymentId', 'quoteId'])
    expect(open.body.status).toBe('pending')
  })

  it('unknown id: 404 {"error":"Payment not found"} (plus a code)', async () => {
    const { status, body } = await get('/payments/01ARZ3NDEKTSV4RRFFQ69G5FAV/status')
    expect(status).toBe(404)
    expect(body.error).toBe('Payment not found')
    expect(body.code).toBe('PAYMENT_NOT_FOUND')
  })
})

describe('GET /payments/pending', () => {
  it('lists payments with the documented fields', async () => {
    const { status, body } = await get('/payments/pending')
    expect(status).toBe(200)
    expect(Object.keys(body)).toEqual(['payments'])
    expect(body.payments).toEqual([
      {
        pendingId: paid.pendingId,
        offerId: 'offer-a',
        status: 'paid',
        buyerWalletAddressUrl: world.buyer,
        incomingPaymentId: paid.incomingPaymentId,
        outgoingPaymentId: paid.outgoingPaymentId,
      },
      { pendingId: pending.pendingId, offerId: 'offer-a', status: 'pending', buyerWalletAddressUrl: world.buyer, incomingPaymentId: pending.incomingPaymentId },
    ])
  })

  it('is bounded: limit, cursor, status filter; bad paging is a 400', async () => {
    const first = await get('/payments/pending?limit=1')
    expect(first.body.payments.map((p: any) => p.pendingId)).toEqual([paid.pendingId])
    expect(first.body.nextCursor).toBe(paid.pendingId)
    const second = await get(`/payments/pending?limit=1&cursor=${first.body.nextCursor}`)
    expect(second.body.payments.map((p: any) => p.pendingId)).toEqual([pending.pendingId])
    expect(second.body.nextCursor).toBeUndefined()
    expect((await get('/payments/pending?status=paid')).body.payments.map((p: any) => p.pendingId)).toEqual([paid.pendingId])
    expect((await get('/payments/pending?limit=501')).status).toBe(400)
    expect((await get('/payments/pending?status=done')).status).toBe(400)
  })
})

describe('GET /offers/:offerId/payments', () => {
  it('answers the offer and its payments with the documented fields', async () => {
    const { status, body } = await get('/offers/offer-a/payments')
    expect(status).toBe(200)
    expect(Object.keys(body)).toEqual(['offerId', 'payments'])
    expect(body.offerId).toBe('offer-a')
    expect(Object.keys(body.payments[0])).toEqual(['pendingId', 'status', 'buyerWalletAddressUrl', 'incomingPaymentId', 'outgoingPaymentId', 'quoteId'])
    expect(body.payments[1]).toEqual({
      pendingId: pending.pendingId,
      status: 'pending',
      buyerWalletAddressUrl: world.buyer,
      incomingPaymentId: pending.incomingPaymentId,
      quoteId: pending.quoteId,
    })
    expect((await get('/offers/nothing-here/payments')).body).toEqual({ offerId: 'nothing-here', payments: [] })
  })
})

describe('GET /payments/finish', () => {
  it('answers {ok: true, outgoingPayment} with the wallet object', async () => {
    const a = await world.startOk({ amount: '100' }, 'offer-finish')
    const res = await fetch(await world.approve(a.redirectUrl))
    const body = await res.json()
    expect(res.status).toBe(200)
    expect(body.ok).toBe(true)
    for (const key of ['id', 'walletAddress', 'quoteId', 'receiveAmount', 'debitAmount', 'sentAmount', 'receiver', 'failed', 'createdAt']) {
      expect(body.outgoingPayment).toHaveProperty(key)
    }
    expect(body.outgoingPayment.receiveAmount).toEqual({ value: '100', assetCode: 'USD', assetScale: 2 })
  })
})

describe('POST /api/payments/incoming', () => {
  it('creates an incoming payment on the seller wallet and answers the documented shape', async () => {
    const res = await world.service.request('/api/payments/incoming', {
      method: 'POST',
      json: { amount: '100', description: 'Job funding for developer position', sellerId: SELLER_ID },
    })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(Object.keys(body)).toEqual(['success', 'paymentId', 'payment_id', 'data'])
    expect(body.success).toBe(true)
    expect(body.payment_id).toBe(body.paymentId)
    expect(body.data).toEqual({
      incomingPaymentId: body.paymentId,
      walletAddress: world.sandbox.walletAddressUrl('seller'),
      amount: '100',
      assetCode: 'USD',
      assetScale: 2,
    })
    expect(body.paymentId).toContain('/incoming-payments/')
  })

  it('is idempotent with an Idempotency-Key and refuses bad amounts', async () => {
    const headers = { 'idempotency-key': 'escrow-1' }
    const json = { amount: '300', sellerId: SELLER_ID }
    const a = await (await world.service.request('/api/payments/incoming', { method: 'POST', json, headers })).json()
    const b = await (await world.service.request('/api/payments/incoming', { method: 'POST', json, headers })).json()
    expect(b).toEqual(a)
    const reused = await world.service.request('/api/payments/incoming', { method: 'POST', json: { ...json, amount: '301' }, headers })
    expect(reused.status).toBe(422)
    const bad = await world.service.request('/api/payments/incoming', { method: 'POST', json: { amount: '19.99', sellerId: SELLER_ID } })
    expect(bad.status).toBe(400)
    expect((await bad.json()).code).toBe('INVALID_AMOUNT')
  })
})

describe('POST /api/wallet/profile', () => {
  it('answers the wallet profile the original service answered', async () => {
    // The profile is read with the default seller's client.
    await world.service.db.seller.create({ data: { ...(await world.service.db.seller.findUniqueOrThrow({ where: { id: SELLER_ID } })), id: 'default-seller' } })
    const res = await world.service.request('/api/wallet/profile', { method: 'POST', json: { walletAddressUrl: world.buyer } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      success: true,
      wallet: {
        id: world.buyer,
        assetCode: 'USD',
        assetScale: 2,
        authServer: `${world.sandbox.origin}/auth`,
        resourceServer: world.buyer.replace('/buyer', '/rs'),
      },
    })
  })
})
