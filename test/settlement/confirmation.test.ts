// "Paid" means the seller received the money: the settlement worker checks both wallets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterEach(() => {
  world.sandbox.setFundingMode('auto')
  world.sandbox.setQuoteFee({ fixed: 0n, basisPoints: 0 })
})
afterAll(() => world.close())

const row = (id: string) => world.service.db.payment.findUniqueOrThrow({ where: { id } })
const restStatus = async (id: string) => (await (await world.service.request(`/payments/${id}/status`)).json()).status
const eventTypes = async (id: string) => (await world.service.db.webhookEvent.findMany({ where: { paymentId: id }, orderBy: { id: 'asc' } })).map((e) => e.type)

async function approveAndFinish(offerId: string, amount = '100') {
  const { pendingId, redirectUrl } = await world.startOk({ amount }, offerId)
  const res = await fetch(await world.approve(redirectUrl))
  return { pendingId, res, body: await res.json() }
}

const SETTLEMENT = `query ($id: String!) { payment(pendingId: $id) { state status settlement {
  sentAmount { value } receivedAmount { value } partiallyReceived checkAttempts lastCheckedAt nextCheckAt } failure { code message } } }`

describe('completion confirmation', () => {
  it('delayed funding: stays pending (PROCESSING) until the wallet funds it, then paid', async () => {
    world.sandbox.setFundingMode('manual')
    const { pendingId, body } = await approveAndFinish('delayed')
    expect(body.ok).toBe(true)
    expect(body.outgoingPayment.sentAmount.value).toBe('0')

    // Several checks go by; nothing arrived, so nothing is paid.
    await expect.poll(async () => (await row(pendingId)).checkAttempts, { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
    expect(await restStatus(pendingId)).toBe('pending')
    const before = await world.service.graphql(SETTLEMENT, { id: pendingId })
    expect(before.data.payment).toMatchObject({ state: 'PROCESSING', status: 'pending', settlement: { receivedAmount: { value: '0' }, partiallyReceived: false } })
    expect(new Date(before.data.payment.settlement.nextCheckAt).getTime()).toBeGreaterThan(Date.now() - 1000)

    world.sandbox.fundOutgoingPayment(body.outgoingPayment.id)
    const recheck = await world.service.graphql(`mutation ($id: String!) { recheckPayment(pendingId: $id) { __typename ... on Payment { state } ... on Error { code } } }`, { id: pendingId })
    expect(['COMPLETED', undefined]).toContain(recheck.data.recheckPayment.state) // or the worker got there first
    await expect.poll(() => restStatus(pendingId), { timeout: 10_000 }).toBe('paid')
    expect(await eventTypes(pendingId)).toEqual(['payment.created', 'payment.approved', 'payment.processing', 'payment.completed'])
    expect((await row(pendingId)).receivedAmount).toBe('100')
  })

  it('the seller wallet decides: paid even when the buyer wallet no longer answers reads', async () => {
    world.sandbox.faults.add({ method: 'GET', path: /^\/rs\/outgoing-payments\//, status: 503 })
    try {
      const { pendingId } = await approveAndFinish('buyer-wallet-down')
      await expect.poll(() => restStatus(pendingId), { timeout: 10_000 }).toBe('paid')
      expect((await row(pendingId)).receivedAmount).toBe('100')
    } finally {
      world.sandbox.faults.clear()
    }
  })

  it('failed funding (buyer balance short): failed with a reason and a payment.failed event', async () => {
    world.sandbox.setBalance('buyer', 50n)
    const { pendingId } = await approveAndFinish('short-balance')
    await expect.poll(() => restStatus(pendingId), { timeout: 10_000 }).toBe('failed')
    const payment = await row(pendingId)
    expect(payment).toMatchObject({ state: 'FAILED', failureCode: 'FUNDING_FAILED' })
    expect((await eventTypes(pendingId)).at(-1)).toBe('payment.failed')
    world.sandbox.setBalance('buyer', 1_000_000n)
  })

  it('a partial receipt is visible in GraphQL and is not paid', async () => {
    world.sandbox.setFundingMode('manual')
    const { pendingId, body } = await approveAndFinish('partial', '100')
    world.sandbox.fundOutgoingPayment(body.outgoingPayment.id, { receiveAmount: 40n })
    await world.service.graphql(`mutation ($id: String!) { recheckPayment(pendingId: $id) { __typename } }`, { id: pendingId })
    await expect.poll(async () => (await row(pendingId)).receivedAmount, { timeout: 10_000 }).toBe('40')
    const res = await world.service.graphql(SETTLEMENT, { id: pendingId })
    expect(res.data.payment.settlement).toMatchObject({ receivedAmount: { value: '40' }, partiallyReceived: true })
    expect(res.data.payment.status).not.toBe('paid')
  })
})

describe('quote expiry at finish', () => {
  it('re-quotes against the same incoming payment and pays when the price still fits', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'requote-ok')
    const firstQuote = (await row(pendingId)).quoteId
    const finishUrl = await world.approve(redirectUrl)
    world.clock.advance(6 * 60_000) // the wallet's quote (5 min) has expired
    const res = await fetch(finishUrl)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.ok).toBe(true)
    const payment = await row(pendingId)
    expect(payment.quoteId).not.toBe(firstQuote)
    expect(body.outgoingPayment.quoteId).toBe(payment.quoteId)
    await expect.poll(() => restStatus(pendingId), { timeout: 10_000 }).toBe('paid')
  })

  it('fails with QUOTE_EXPIRED when the new price exceeds what the buyer approved', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'requote-dearer')
    const finishUrl = await world.approve(redirectUrl)
    world.clock.advance(6 * 60_000)
    world.sandbox.setQuoteFee({ fixed: 25n, basisPoints: 0 })
    const res = await fetch(finishUrl)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ok: false, state: 'FAILED', code: 'QUOTE_EXPIRED' })
    expect(world.sandbox.outgoingPayments().some((op) => op.metadata?.pendingId === pendingId)).toBe(false)
    expect((await eventTypes(pendingId)).at(-1)).toBe('payment.failed')
  })
})
