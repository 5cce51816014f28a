// Issue 9, item 8: POST /api/payments/incoming records its Idempotency-Key before it calls the
// wallet (src/payments/idempotency.ts, shared with the checkout start), so concurrent requests with
// one key create exactly one incoming payment at the seller's wallet.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startCheckoutWorld, SELLER_ID, type CheckoutWorld } from '../checkout/world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

const create = (key: string, amount = '500') =>
  world.service.request('/api/payments/incoming', {
    method: 'POST',
    headers: { 'idempotency-key': key },
    json: { amount, sellerId: SELLER_ID, description: 'escrow' },
  })

it('concurrent requests with the same key create exactly one incoming payment at the wallet', async () => {
  await (await create('warm-up')).json() // tokens and wallet documents cached: the race is on the creation itself
  // A slow wallet widens the window in which the requests overlap.
  world.sandbox.faults.add({ path: '/rs/incoming-payments', method: 'POST', latencyMs: 300 })
  const before = world.sandbox.counts().incomingPayments
  const answers = await Promise.all(Array.from({ length: 8 }, () => create('escrow-42')))
  const bodies = await Promise.all(answers.map((r) => r.json()))
  world.sandbox.faults.clear()

  expect(world.sandbox.counts().incomingPayments - before).toBe(1)
  const ok = bodies.filter((_, i) => answers[i].status === 200)
  expect(ok.length).toBeGreaterThanOrEqual(1)
  expect(new Set(ok.map((b) => b.paymentId)).size).toBe(1)
  // The others were told to retry while the first was still at the wallet.
  for (const [i, res] of answers.entries()) if (res.status !== 200) expect([res.status, bodies[i].code]).toEqual([409, 'PAYMENT_NOT_FINISHABLE'])
  expect(await world.service.db.incomingPayment.count({ where: { idempotencyKey: 'escrow-42' } })).toBe(1)

  // A retry afterwards answers the same incoming payment, and a reuse with other parameters is a 422.
  const again = await create('escrow-42')
  expect(again.status).toBe(200)
  expect((await again.json()).paymentId).toBe(ok[0].paymentId)
  expect((await create('escrow-42', '501')).status).toBe(422)
  expect(world.sandbox.counts().incomingPayments - before).toBe(1)
})

it('a request the wallet refuses leaves no record, so a retry with the same key starts cleanly', async () => {
  world.sandbox.faults.add({ path: '/rs/incoming-payments', method: 'POST', status: 503, times: 1 })
  const failed = await create('escrow-43')
  expect(failed.status).toBe(502)
  expect(await world.service.db.incomingPayment.count({ where: { idempotencyKey: 'escrow-43' } })).toBe(0)
  const retried = await create('escrow-43')
  expect(retried.status).toBe(200)
})
