// Live status over real HTTP (server-sent events): the paymentUpdated subscription.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { subscribeToPayment } from './payment-updates-client.js'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

// The outbox write of a transition, made to fail once for one payment: its transaction rolls back
// after the payment row was already updated in it (on PostgreSQL the change and its event are one
// statement: its event part is made to fail, at the next change, which is that payment's).
const outboxFailure = vi.hoisted(() => ({ paymentId: undefined as string | undefined }))
vi.mock('../../src/webhooks/outbox.js', async (importOriginal) => {
  const outbox = await importOriginal<typeof import('../../src/webhooks/outbox.js')>()
  return {
    ...outbox,
    enqueueCountedPaymentEvent: (...args: Parameters<typeof outbox.enqueueCountedPaymentEvent>) => {
      if (args[2].id !== outboxFailure.paymentId) return outbox.enqueueCountedPaymentEvent(...args)
      outboxFailure.paymentId = undefined
      return Promise.reject(new Error('the outbox write failed (test)'))
    },
    paymentEventInsertSql: (...args: Parameters<typeof outbox.paymentEventInsertSql>) => {
      if (outboxFailure.paymentId === undefined) return outbox.paymentEventInsertSql(...args)
      outboxFailure.paymentId = undefined
      return 'INSERT INTO "WebhookEvent" ("id") SELECT "noSuchColumn" FROM "changed"'
    },
  }
})

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

const subscribe = (pendingId: string, token?: string | null) => subscribeToPayment(world.service.url, pendingId, token)

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

  it('never shows a state that rolled back: a finish whose transaction fails is not seen, and the row is unchanged', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'job-live-rollback')
    const live = await subscribe(pendingId)
    await expect.poll(() => live.states()).toEqual(['AWAITING_APPROVAL'])
    const before = await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })
    const eventsBefore = await world.service.db.webhookEvent.count({ where: { paymentId: pendingId } })

    const finishUrl = await world.approve(redirectUrl)
    outboxFailure.paymentId = pendingId
    const failed = await fetch(finishUrl)
    expect(failed.status).toBe(500)
    expect(outboxFailure.paymentId, 'the outbox write was attempted').toBeUndefined()
    expect(await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })).toEqual(before)
    expect(await world.service.db.webhookEvent.count({ where: { paymentId: pendingId } })).toBe(eventsBefore)
    // Long enough for a re-read to arrive, announced or polled (SQLite looks every 500 ms).
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(live.states()).toEqual(['AWAITING_APPROVAL'])

    // The same redirect again, now committing: the stream goes on from the state that was real.
    expect((await fetch(finishUrl)).status).toBe(200)
    await live.done
    expect(live.states()).toEqual(['AWAITING_APPROVAL', 'FINISHING', 'PROCESSING', 'COMPLETED'])
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
