// Two services in one process. Everything a service is made of (src/deps.ts: configuration,
// database, logger, clock, wallets, metrics) is handed to it explicitly, so two of them side by side
// share nothing: each has its own database, sellers, cached clients, logs, metrics and clock. Time
// is the clock a service was given: a test moves it forward instead of sleeping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, SELLER_ID, type CheckoutWorld } from '../checkout/world.js'
import { waitFor } from '../harness.js'
import { createTestClock } from '../sandbox/sandbox-harness.js'

const clockA = createTestClock()
let a: CheckoutWorld
let b: CheckoutWorld
beforeAll(async () => {
  // Both register a seller with the same id (SELLER_ID), each on its own wallet with its own key.
  a = await startCheckoutWorld({ clock: clockA })
  b = await startCheckoutWorld()
})
afterAll(async () => {
  await a?.close()
  await b?.close()
})

const metricLine = async (world: CheckoutWorld, prefix: string) =>
  (await (await world.service.request('/metrics')).text()).split('\n').find((line) => line.startsWith(prefix))

describe('two services in one process', () => {
  it('keep their databases, sellers and signing clients, logs and metrics apart', async () => {
    const onA = await a.startOk({ amount: '700' })
    const onB = await b.startOk({ amount: '300' })

    // Each one's seller signs with its own key at its own wallet: both checkouts finish and pay.
    for (const [world, checkout] of [[a, onA], [b, onB]] as const) {
      const finished = await fetch(await world.approve(checkout.redirectUrl))
      expect(finished.status).toBe(200)
      expect((await finished.json()).ok).toBe(true)
    }
    const status = async (world: CheckoutWorld, pendingId: string) => (await world.service.request(`/payments/${pendingId}/status`)).json()
    // Paid once each one's own settlement check (a worker of that service) has seen the money arrive.
    await expect.poll(async () => (await status(a, onA.pendingId)).status, { timeout: 10_000 }).toBe('paid')
    await expect.poll(async () => (await status(b, onB.pendingId)).status, { timeout: 10_000 }).toBe('paid')
    expect(a.sandbox.walletAddressUrl('seller')).not.toBe(b.sandbox.walletAddressUrl('seller'))
    expect((await a.service.db.seller.findUniqueOrThrow({ where: { id: SELLER_ID } })).walletAddressUrl).toBe(a.sandbox.walletAddressUrl('seller'))
    expect((await b.service.db.seller.findUniqueOrThrow({ where: { id: SELLER_ID } })).walletAddressUrl).toBe(b.sandbox.walletAddressUrl('seller'))

    // Each one's log lines are its own (before the lookups below, which each log with the other's id).
    expect(a.service.logs.join('')).toContain(onA.pendingId)
    expect(a.service.logs.join('')).not.toContain(onB.pendingId)
    expect(b.service.logs.join('')).toContain(onB.pendingId)
    expect(b.service.logs.join('')).not.toContain(onA.pendingId)

    // Neither knows the other's payment, in its database, over REST or over GraphQL.
    expect(await a.service.db.payment.count({ where: { id: onB.pendingId } })).toBe(0)
    expect((await b.service.request(`/payments/${onA.pendingId}/status`)).status).toBe(404)
    const paymentQuery = 'query($id: String!) { payment(pendingId: $id) { __typename } }'
    expect(await a.service.graphql(paymentQuery, { id: onA.pendingId })).toEqual({ data: { payment: { __typename: 'Payment' } } })
    expect(await b.service.graphql(paymentQuery, { id: onA.pendingId })).toEqual({ data: { payment: null } })

    // Each one's registry counts its own requests (one start each above).
    const started = 'http_request_duration_seconds_count{method="POST",route="/offers/:offerId/quotes/start",status="200"}'
    expect(await metricLine(a, started)).toBe(`${started} 1`)
    expect(await metricLine(b, started)).toBe(`${started} 1`)
    // Both answer the process's default metrics, collected once per process, each exactly once.
    for (const world of [a, b]) {
      const text = await (await world.service.request('/metrics')).text()
      expect(text.split('\n').filter((line) => line.startsWith('# TYPE process_cpu_user_seconds_total ')), 'process metrics').toHaveLength(1)
      expect(text.split('\n').filter((line) => line.startsWith('process_cpu_user_seconds_total ')), 'process metrics').toHaveLength(1)
    }
  })

  it('act on their own clocks: moving one forward expires that service’s abandoned checkout, at once, and not the other’s', async () => {
    const onA = await a.startOk()
    const onB = await b.startOk()
    const consentTimeoutMs = a.service.deps.config.openPayments.consentTimeoutMs
    expect(consentTimeoutMs).toBeGreaterThanOrEqual(60_000) // 11 minutes by default: far beyond this test's real time

    const realStart = Date.now()
    clockA.advance(consentTimeoutMs + 1_000)
    // The expiry job polls every SETTLEMENT_POLL_INTERVAL_MS (100 ms in the checkout world) on the real clock.
    const expired = await waitFor(async () => {
      const row = await a.service.db.payment.findUniqueOrThrow({ where: { id: onA.pendingId } })
      return row.state === 'EXPIRED' && row
    })
    expect(Date.now() - realStart).toBeLessThan(10_000)
    expect(expired.failureCode).toBe('CONSENT_EXPIRED')
    // Stamped with A's time, minutes ahead of the real clock.
    expect(expired.finishedAt!.getTime()).toBeGreaterThanOrEqual(realStart + consentTimeoutMs)

    // B's clock did not move: its checkout, started at the same time, is still waiting for the buyer.
    await new Promise((resolve) => setTimeout(resolve, 500)) // five of B's polls
    expect((await b.service.db.payment.findUniqueOrThrow({ where: { id: onB.pendingId } })).state).toBe('AWAITING_APPROVAL')
  })
})
