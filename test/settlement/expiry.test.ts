// Payments nobody finishes: abandoned consent, and incoming payments that expire short.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld({ env: { CONSENT_TIMEOUT_SECONDS: '2', INCOMING_PAYMENT_LIFETIME_SECONDS: '6' } })
})
afterAll(() => world.close())

const row = (id: string) => world.service.db.payment.findUniqueOrThrow({ where: { id } })

describe('expiry', () => {
  it('abandoned consent: the grant is cancelled, the payment EXPIRED, payment.expired sent', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'abandoned')
    await expect.poll(async () => (await row(pendingId)).state, { timeout: 8000, interval: 200 }).toBe('EXPIRED')
    expect((await row(pendingId)).failureCode).toBe('CONSENT_EXPIRED')
    const events = await world.service.db.webhookEvent.findMany({ where: { paymentId: pendingId } })
    expect(events.map((e) => e.type)).toContain('payment.expired')
    expect(JSON.parse(events.find((e) => e.type === 'payment.expired')!.payload)).toMatchObject({ status: 'failed', pendingId })
    // Then the grant is cancelled at the wallet: a late approval can no longer pay.
    await expect
      .poll(() => world.exchanges.some((e) => e.method === 'DELETE' && e.path.startsWith('/auth/continue/') && e.status === 204), { timeout: 5000 })
      .toBe(true)
    const late = await world.approve(redirectUrl).catch((error: Error) => error.message)
    expect(late).not.toMatch(/hash=/)
  })

  it('an incoming payment that expires short of the amount fails the payment', async () => {
    // The buyer's wallet never funds the outgoing payment; the seller's incoming payment expires.
    world.sandbox.setFundingMode('manual')
    const { pendingId, redirectUrl } = await world.startOk({}, 'expires-short')
    expect((await fetch(await world.approve(redirectUrl))).status).toBe(200)
    await expect.poll(async () => (await row(pendingId)).state, { timeout: 15_000, interval: 250 }).toBe('FAILED')
    const payment = await row(pendingId)
    expect(payment.failureCode).toBe('INCOMING_PAYMENT_EXPIRED')
    expect(payment.failureMessage).toContain('0 of 100')
  })
})
