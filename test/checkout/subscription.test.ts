// Live status over real HTTP (server-sent events): the paymentUpdated subscription.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN } from '../harness.js'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

const SUBSCRIPTION = `subscription ($pendingId: String!) {
  paymentUpdated(pendingId: $pendingId) { pendingId state status failure { code } }
}`

/** Opens the subscription and collects each `next` payload until the server completes the stream. */
async function subscribe(pendingId: string, token: string | null = API_TOKEN) {
  const res = await fetch(`${world.service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: SUBSCRIPTION, variables: { pendingId } }),
  })
  const events: any[] = []
  const done = (async () => {
    if (!res.ok || !res.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    const reader = res.body.getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event === 'next' && data) events.push(JSON.parse(data))
        if (event === 'complete') return
      }
    }
  })()
  return { res, events, done }
}

describe('paymentUpdated subscription (SSE)', () => {
  it('a subscriber sees every state of a checkout, in order, and the stream ends at the final one', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'job-live')
    const live = await subscribe(pendingId)
    expect(live.res.status).toBe(200)
    expect(live.res.headers.get('content-type')).toContain('text/event-stream')
    await expect.poll(() => live.events.length).toBe(1)

    await fetch(await world.approve(redirectUrl))
    await live.done
    expect(live.events.map((e) => e.data.paymentUpdated.state)).toEqual(['AWAITING_APPROVAL', 'FINISHING', 'PROCESSING', 'COMPLETED'])
    expect(live.events.at(-1).data.paymentUpdated).toEqual({ pendingId, state: 'COMPLETED', status: 'paid', failure: null })
  })

  it('a rejected checkout ends the stream at REJECTED', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'job-live-reject')
    const live = await subscribe(pendingId)
    await expect.poll(() => live.events.length).toBe(1)
    await fetch(await world.reject(redirectUrl))
    await live.done
    expect(live.events.map((e) => e.data.paymentUpdated.state)).toEqual(['AWAITING_APPROVAL', 'REJECTED'])
    expect(live.events.at(-1).data.paymentUpdated.failure).toEqual({ code: 'GRANT_REJECTED' })
  })

  it('a subscriber arriving after the end gets the final state at once', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'job-live-late')
    await fetch(await world.reject(redirectUrl))
    const live = await subscribe(pendingId)
    await live.done
    expect(live.events.map((e) => e.data.paymentUpdated.state)).toEqual(['REJECTED'])
  })

  it('is authenticated like every operation, and refuses an unknown payment', async () => {
    const { pendingId } = await world.startOk({}, 'job-live-auth')
    const anonymous = await subscribe(pendingId, null)
    expect(anonymous.res.status).toBe(401)

    const unknown = await subscribe('01ARZ3NDEKTSV4RRFFQ69G5FAV')
    await unknown.done
    expect(unknown.events).toEqual([
      expect.objectContaining({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'PAYMENT_NOT_FOUND' }) })] }),
    ])
  })
})
