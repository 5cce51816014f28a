// The finish redirect under hostile and unlucky conditions: every result=, forged hashes,
// replays and concurrent finishes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

const row = (id: string) => world.service.db.payment.findUniqueOrThrow({ where: { id } })
const eventsOf = async (id: string) => (await world.service.db.webhookEvent.findMany({ where: { paymentId: id }, orderBy: { id: 'asc' } })).map((e) => e.type)

describe('wallet results', () => {
  it('grant_rejected: the payment is rejected with a reason, once', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'reject-1')
    const finishUrl = await world.reject(redirectUrl)
    expect(finishUrl).toContain(`pendingId=${pendingId}&result=grant_rejected`)
    const res = await fetch(finishUrl)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      ok: false,
      pendingId,
      status: 'failed',
      state: 'REJECTED',
      error: 'The buyer rejected the payment in their wallet',
      code: 'GRANT_REJECTED',
    })
    expect(await fetch(finishUrl).then((r) => r.status)).toBe(200)
    expect(await eventsOf(pendingId)).toEqual(['payment.created', 'payment.rejected'])
    const status = await (await world.service.request(`/payments/${pendingId}/status`)).json()
    expect(status.status).toBe('failed')
    expect(world.sandbox.outgoingPayments().some((op) => op.metadata?.pendingId === pendingId)).toBe(false)
  })

  it.each([
    ['grant_invalid', '', 'FAILED', 'GRANT_INVALID'],
    ['invalid_interaction', '&message=interaction%20expired', 'EXPIRED', 'CONSENT_EXPIRED'],
    ['invalid_interaction', '', 'FAILED', 'INTERACTION_FAILED'],
    ['unknown_interaction', '&message=unknown%20interaction', 'FAILED', 'GRANT_REVOKED'],
    ['request_denied', '', 'FAILED', 'REQUEST_DENIED'],
  ])('result=%s%s ends the payment as %s (%s)', async (result, extra, state, code) => {
    const { pendingId } = await world.startOk({}, `result-${result}`)
    const res = await fetch(`${world.service.url}/payments/finish?pendingId=${pendingId}&result=${result}${extra}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ok: false, state, code, status: 'failed' })
    expect((await row(pendingId)).state).toBe(state)
  })

  it('a result= for a payment already made changes nothing and discloses no payment details', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'result-late')
    expect((await fetch(await world.approve(redirectUrl))).status).toBe(200)
    const res = await fetch(`${world.service.url}/payments/finish?pendingId=${pendingId}&result=grant_rejected`)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).not.toHaveProperty('outgoingPayment')
    expect(['PROCESSING', 'COMPLETED']).toContain(body.state)
    expect(['PROCESSING', 'COMPLETED']).toContain((await row(pendingId)).state)
  })

  it('an unknown result is a 400 and changes nothing', async () => {
    const { pendingId } = await world.startOk({}, 'result-unknown')
    const res = await fetch(`${world.service.url}/payments/finish?pendingId=${pendingId}&result=all_good`)
    expect(res.status).toBe(400)
    expect((await res.json()).code).toBe('INVALID_FINISH')
    expect((await row(pendingId)).state).toBe('AWAITING_APPROVAL')
  })
})

describe('finish hash', () => {
  it('refuses a missing or wrong hash with 400 and changes nothing', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'forged-1')
    const finishUrl = new URL(await world.approve(redirectUrl))
    const ref = finishUrl.searchParams.get('interact_ref')!
    const good = finishUrl.searchParams.get('hash')!
    const before = await row(pendingId)
    const cases = [
      `pendingId=${pendingId}&interact_ref=${ref}`,
      `pendingId=${pendingId}&hash=${encodeURIComponent(good)}`,
      `pendingId=${pendingId}&interact_ref=${ref}&hash=${encodeURIComponent(Buffer.alloc(32, 1).toString('base64'))}`,
      `pendingId=${pendingId}&interact_ref=other-ref&hash=${encodeURIComponent(good)}`,
      `pendingId=${pendingId}&interact_ref=${ref}&hash=not-base64!`,
    ]
    for (const query of cases) {
      const res = await fetch(`${world.service.url}/payments/finish?${query}`)
      expect(res.status, query).toBe(400)
      expect(['INVALID_FINISH', 'INVALID_FINISH_HASH']).toContain((await res.json()).code)
    }
    expect(await row(pendingId)).toEqual(before)
    expect(world.sandbox.counts().continuations).toBeGreaterThanOrEqual(0)
    // The genuine redirect still works afterwards.
    expect((await fetch(finishUrl.href.replace(finishUrl.origin, world.service.url))).status).toBe(200)
  })

  it('accepts the URL-safe alphabet and a + turned into a space', async () => {
    const { redirectUrl } = await world.startOk({}, 'alphabet-1')
    const finishUrl = new URL(await world.approve(redirectUrl))
    const hash = finishUrl.searchParams.get('hash')!
    const urlSafe = hash.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    finishUrl.searchParams.set('hash', urlSafe)
    const res = await fetch(world.atService(finishUrl.href))
    expect(res.status).toBe(200)
    expect((await res.json()).ok).toBe(true)
  })

  it('answers an unknown or malformed pendingId with 404 / 400', async () => {
    expect((await fetch(`${world.service.url}/payments/finish?pendingId=01ARZ3NDEKTSV4RRFFQ69G5FAV&result=grant_rejected`)).status).toBe(404)
    expect((await fetch(`${world.service.url}/payments/finish?pendingId=../../etc&result=grant_rejected`)).status).toBe(400)
    expect((await fetch(`${world.service.url}/payments/finish`)).status).toBe(400)
  })
})

describe('exactly once', () => {
  it('a replayed finish answers from stored state without continuing again', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'replay-1')
    const finishUrl = await world.approve(redirectUrl)
    const first = await (await fetch(finishUrl)).json()
    const continuations = world.sandbox.counts().continuations
    const second = await fetch(finishUrl)
    expect(second.status).toBe(200)
    expect((await second.json()).outgoingPayment.id).toBe(first.outgoingPayment.id)
    expect(world.sandbox.counts().continuations).toBe(continuations)
    expect(world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
  })

  it('20 concurrent finishes continue the grant once and create one outgoing payment', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'race-1')
    const finishUrl = await world.approve(redirectUrl)
    const continuationsBefore = world.sandbox.counts().continuations
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(finishUrl).then(async (r) => ({ status: r.status, body: await r.json() }))))
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200))
    const ids = new Set(answers.map((a) => a.body.outgoingPayment?.id))
    expect(ids.size).toBe(1)
    expect(world.sandbox.counts().continuations - continuationsBefore).toBe(1)
    expect(world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
    expect((await eventsOf(pendingId)).filter((t) => t === 'payment.processing')).toHaveLength(1)
  })
})

describe('timing', () => {
  it('waits out the wallet\'s continue `wait` instead of failing with too_fast', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'fast-buyer')
    const started = Date.now()
    const res = await fetch(await world.approve(redirectUrl))
    expect(res.status).toBe(200)
    expect((await res.json()).ok).toBe(true)
    const payment = await row(pendingId)
    expect(Date.now() - payment.grantRequestedAt!.getTime()).toBeGreaterThanOrEqual(1000)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
