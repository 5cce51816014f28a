// Live status limits over real HTTP (SSE): streams per process are bounded, and so is pendingId.
// (A file of its own: one service per test process, since config and database are process-wide.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { subscribeToPayment } from './payment-updates-client.js'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

describe('paymentUpdated subscription limits', () => {
  let limited: CheckoutWorld
  beforeAll(async () => {
    limited = await startCheckoutWorld({ env: { LIVE_SUBSCRIPTIONS_MAX: '2' } as never })
  })
  afterAll(() => limited.close())

  it('serves at most LIVE_SUBSCRIPTIONS_MAX streams at once per process, then takes new ones as streams end', async () => {
    const { pendingId, redirectUrl } = await limited.startOk({}, 'job-live-limit')
    const open = [await subscribeToPayment(limited.service.url, pendingId), await subscribeToPayment(limited.service.url, pendingId)]
    for (const live of open) await expect.poll(() => live.events.length).toBe(1)

    const refused = await subscribeToPayment(limited.service.url, pendingId)
    await refused.done
    expect(refused.events.map((e) => e.errors?.[0]?.extensions?.code)).toEqual(['TOO_MANY_SUBSCRIPTIONS'])

    await fetch(await limited.reject(redirectUrl))
    for (const live of open) await live.done
    const again = await subscribeToPayment(limited.service.url, pendingId)
    await again.done
    expect(again.states()).toEqual(['REJECTED'])
  })

  it('refuses an unbounded pendingId without echoing it', async () => {
    const live = await subscribeToPayment(limited.service.url, 'x'.repeat(5000))
    await live.done
    const body = JSON.stringify(live.events)
    expect(body).toContain('VALIDATION_FAILED')
    expect(body).not.toContain('x'.repeat(200))
  })
})
