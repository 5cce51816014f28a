// Issue 9, item 9: a finish whose buyer wallet keeps failing is tried again on FINISH_RETRY_SCHEDULE
// and then ends: FAILED with failureCode WALLET_UNAVAILABLE and a payment.failed event.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld({ env: { FINISH_RETRY_SCHEDULE: '200ms,400ms' } })
})
afterEach(() => world.sandbox.faults.clear())
afterAll(() => world.close())

const row = (id: string) => world.service.db.payment.findUniqueOrThrow({ where: { id } })
const outgoingAttempts = () => world.exchanges.filter((e) => e.method === 'POST' && e.path === '/rs/outgoing-payments').length

it('a buyer wallet that keeps failing: two more tries on the schedule, then FAILED / WALLET_UNAVAILABLE', async () => {
  const { pendingId, redirectUrl } = await world.startOk({}, 'gives-up')
  const finishUrl = await world.approve(redirectUrl)
  world.sandbox.faults.add({ path: '/rs/outgoing-payments', method: 'POST', status: 503 })
  const before = outgoingAttempts()

  const res = await fetch(finishUrl)
  expect(res.status).toBe(502)
  const first = await row(pendingId)
  expect(first.state).toBe('FINISHING')
  expect(first.checkAttempts).toBe(1)
  expect(first.nextCheckAt!.getTime()).toBeGreaterThan(Date.now() - 1000)

  await expect.poll(async () => (await row(pendingId)).state, { timeout: 15_000 }).toBe('FAILED')
  const failed = await row(pendingId)
  expect(failed).toMatchObject({ failureCode: 'WALLET_UNAVAILABLE', leaseUntil: null })
  expect(failed.failureMessage).toMatch(/^The buyer wallet kept failing/)
  expect(outgoingAttempts() - before).toBe(3) // the first try and one per delay of the schedule
  const events = await world.service.db.webhookEvent.findMany({ where: { paymentId: pendingId }, orderBy: { id: 'asc' } })
  expect(events.map((e) => e.type)).toEqual(['payment.created', 'payment.approved', 'payment.failed'])
  expect(JSON.parse(events.at(-1)!.payload)).toMatchObject({ pendingId, status: 'failed', failureCode: 'WALLET_UNAVAILABLE' })
  const status = await (await world.service.request(`/payments/${pendingId}/status`)).json()
  expect(status.status).toBe('failed')

  // The worker leaves it alone from now on.
  world.sandbox.faults.clear()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  expect(outgoingAttempts() - before).toBe(3)
})

it('a wallet that recovers within the schedule: the payment goes through', async () => {
  const { pendingId, redirectUrl } = await world.startOk({}, 'recovers')
  const finishUrl = await world.approve(redirectUrl)
  world.sandbox.faults.add({ path: '/rs/outgoing-payments', method: 'POST', status: 503, times: 2 })
  expect((await fetch(finishUrl)).status).toBe(502)
  await expect.poll(async () => (await row(pendingId)).state, { timeout: 15_000 }).toMatch(/PROCESSING|COMPLETED/)
  expect(world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
  expect((await row(pendingId)).failureCode).toBeNull()
})
