// What a client needs to clean up after a checkout that ended unpaid, as the reference wallet does
// it: GNAP grant cancel (DELETE the continue URI) and completing an incoming payment (POST
// <id>/complete), with the results visible in the wallet's back office.
import { isPendingGrant } from '@interledger/open-payments'
import { beforeEach, describe, expect, it } from 'vitest'
import { expectClientError, prepareCheckout, requestToken, type TestSandbox, useTestSandbox } from './sandbox-harness.js'

const sandboxes = useTestSandbox()
let t: TestSandbox
beforeEach(() => {
  t = sandboxes.current()
})

const INCOMING_ACCESS = [{ type: 'incoming-payment', actions: ['create', 'read', 'complete'] }]

async function adminJson(path: string) {
  return (await fetch(`${t.sandbox.origin}/sandbox/${path}`)).json()
}

describe('grant cancel', () => {
  it('finalizes a pending grant as revoked; the consent can no longer approve; a second cancel is 404', async () => {
    const { client, grant } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    const statusOf = () => t.sandbox.grants().find((g) => g.continueUri === grant.continue.uri)!
    expect(statusOf()).toMatchObject({ state: 'pending', finalized: false, finalizationReason: null })

    await client.grant.cancel({ url: grant.continue.uri, accessToken: grant.continue.access_token.value })
    expect(statusOf()).toMatchObject({ state: 'revoked', finalized: true, finalizationReason: 'REVOKED' })
    const listed = (await adminJson('grants')).grants.find((g: { continueUri: string }) => g.continueUri === grant.continue.uri)
    expect(listed).toMatchObject({ finalized: true, finalizationReason: 'REVOKED', access: ['outgoing-payment'] })

    const late = await t.sandbox.approve(grant.interact.redirect)
    expect(new URL(late).searchParams.get('result')).toBe('unknown_interaction')
    await expectClientError(client.grant.cancel({ url: grant.continue.uri, accessToken: grant.continue.access_token.value }), 404)
  })

  it('cancels a grant the buyer rejected (the wallet had finalized it already)', async () => {
    const { client, grant } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    await t.sandbox.reject(grant.interact.redirect)
    expect(t.sandbox.grants().find((g) => g.continueUri === grant.continue.uri)).toMatchObject({ finalized: true, finalizationReason: 'REJECTED' })
    await client.grant.cancel({ url: grant.continue.uri, accessToken: grant.continue.access_token.value })
    expect(t.sandbox.grants().find((g) => g.continueUri === grant.continue.uri)).toMatchObject({ finalizationReason: 'REVOKED' })
  })

  it('fails as often as a fault says, then cancels', async () => {
    const { client, grant } = await prepareCheckout(t)
    if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
    // The SDK's HTTP client (ky) retries an idempotent DELETE twice by itself: one cancel() is three requests.
    t.sandbox.faults.add({ method: 'DELETE', path: '/auth/continue/*', status: 503, times: 3 })
    const cancel = () => client.grant.cancel({ url: grant.continue.uri, accessToken: grant.continue.access_token.value })
    await expectClientError(cancel(), 503)
    expect(t.exchanges.filter((e) => e.method === 'DELETE' && e.status === 503)).toHaveLength(3)
    expect(t.sandbox.grants().find((g) => g.continueUri === grant.continue.uri)!.finalized).toBe(false)
    await cancel()
    expect(t.sandbox.grants().find((g) => g.continueUri === grant.continue.uri)!.finalizationReason).toBe('REVOKED')
  })
})

describe('incoming payment complete', () => {
  it('completes an open incoming payment; completing it again is 409 wrong state, as Rafiki', async () => {
    const { client, incomingPayment } = await prepareCheckout(t)
    const token = await requestToken(t, client, INCOMING_ACCESS)
    const closed = await client.incomingPayment.complete({ url: incomingPayment.id, accessToken: token.value })
    expect(closed).toMatchObject({ id: incomingPayment.id, completed: true, receivedAmount: { value: '0' } })
    expect(t.sandbox.incomingPayments().find((p) => p.id === incomingPayment.id)!.completed).toBe(true)
    const listed = (await adminJson('incoming-payments')).incomingPayments.find((p: { id: string }) => p.id === incomingPayment.id)
    expect(listed).toMatchObject({ completed: true, metadata: { externalRef: 'order-1' } })

    await expectClientError(client.incomingPayment.complete({ url: incomingPayment.id, accessToken: token.value }), 409)
  })

  it('refuses to complete an expired incoming payment (409) and an unknown one (404)', async () => {
    const { client, incomingPayment } = await prepareCheckout(t)
    t.clock.advance(11 * 60_000) // the incoming payment lived 10 minutes
    const token = await requestToken(t, client, INCOMING_ACCESS)
    await expectClientError(client.incomingPayment.complete({ url: incomingPayment.id, accessToken: token.value }), 409)
    expect(t.sandbox.incomingPayments().find((p) => p.id === incomingPayment.id)!.completed).toBe(false)
    await expectClientError(client.incomingPayment.complete({ url: `${incomingPayment.id}0`, accessToken: token.value }), 404)
  })

  it('fails as often as a fault says, then completes', async () => {
    const { client, incomingPayment } = await prepareCheckout(t)
    const token = await requestToken(t, client, INCOMING_ACCESS)
    t.sandbox.faults.add({ method: 'POST', path: /\/complete$/, status: 503, times: 1 })
    await expectClientError(client.incomingPayment.complete({ url: incomingPayment.id, accessToken: token.value }), 503)
    await client.incomingPayment.complete({ url: incomingPayment.id, accessToken: token.value })
    expect(t.sandbox.incomingPayments().find((p) => p.id === incomingPayment.id)!.completed).toBe(true)
  })
})
