// Fault injection per endpoint: latency, 5xx answers, hangs (the SDK's timeout fires) and dropped
// connections (the SDK sees a network error, no HTTP status).
import { beforeEach, describe, expect, it } from 'vitest'
import { isPendingGrant, OpenPaymentsClientError } from '@interledger/open-payments'
import { expectClientError, prepareCheckout, requestToken, resourceServerOf, type TestSandbox, useTestSandbox } from './sandbox-harness.js'

const sandboxes = useTestSandbox()
let t: TestSandbox
beforeEach(() => {
  t = sandboxes.current()
})

async function failureOf(promise: Promise<unknown>): Promise<OpenPaymentsClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(OpenPaymentsClientError)
  return err as OpenPaymentsClientError
}

describe('faults', () => {
  it('adds latency to one endpoint, the given number of times', async () => {
    const client = await t.clientFor('seller')
    const url = t.sandbox.walletAddressUrl('seller')
    t.sandbox.faults.add({ method: 'GET', path: '/seller', latencyMs: 300, times: 1 })
    let started = performance.now()
    await client.walletAddress.get({ url })
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    started = performance.now()
    await client.walletAddress.get({ url })
    expect(performance.now() - started).toBeLessThan(250)
  })

  it('answers a 5xx on the grant endpoint, then recovers', async () => {
    const client = await t.clientFor('seller')
    t.sandbox.faults.add({ method: 'POST', path: '/auth', status: 503, times: 1 })
    const access = [{ type: 'quote', actions: ['create'] }]
    await expectClientError(requestToken(t, client, access), 503)
    expect(t.sandbox.counts().grants).toBe(0)
    await requestToken(t, client, access)
    expect(t.sandbox.counts().grants).toBe(1)
  })

  it('hangs quote creation until the SDK times out', async () => {
    const client = await t.clientFor('seller', { requestTimeoutMs: 300 })
    const token = await requestToken(t, client, [{ type: 'quote', actions: ['create'] }])
    t.sandbox.faults.add({ path: '/rs/quotes', hang: true })
    const started = performance.now()
    const err = await failureOf(
      client.quote.create(
        { url: resourceServerOf(t), accessToken: token.value },
        { walletAddress: t.sandbox.walletAddressUrl('buyer'), receiver: `${resourceServerOf(t)}/incoming-payments/x`, method: 'ilp' },
      ),
    )
    expect(err.status).toBeUndefined()
    expect(err.description).toMatch(/timed out/i)
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(t.sandbox.counts().quotes).toBe(0)
  })

  it('drops the connection on grant continuation, matched by a RegExp', async () => {
    const { grant, client } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    const interactRef = new URL(await t.sandbox.approve(grant.interact.redirect)).searchParams.get('interact_ref')!
    t.clock.advance(5_000)
    t.sandbox.faults.add({ method: 'POST', path: /^\/auth\/continue\//, drop: true, times: 1 })
    const args = { url: grant.continue.uri, accessToken: grant.continue.access_token.value }
    const err = await failureOf(client.grant.continue(args, { interact_ref: interactRef }))
    expect(err.status).toBeUndefined()
    expect(t.sandbox.counts().continuations).toBe(0)
    // The dropped request never reached the grant: continuing again works exactly once.
    const continued = await client.grant.continue(args, { interact_ref: interactRef })
    expect('access_token' in continued).toBe(true)
  })

  it('matches a prefix with * and is removed by clear()', async () => {
    const client = await t.clientFor('seller')
    t.sandbox.faults.add({ path: '/rs/*', status: 500 })
    const token = await requestToken(t, client, [{ type: 'incoming-payment', actions: ['create'] }])
    const create = () =>
      client.incomingPayment.create({ url: resourceServerOf(t), accessToken: token.value }, { walletAddress: t.sandbox.walletAddressUrl('seller') })
    await expectClientError(create(), 500)
    t.sandbox.faults.clear()
    await create()
    expect(() => t.sandbox.faults.add({ path: '/auth', status: 404 })).toThrow(/5xx/)
  })
})
