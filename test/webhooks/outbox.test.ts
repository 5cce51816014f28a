// The outbox half: an event exists exactly when its payment change committed, the running service's
// dispatcher sends it soon after commit (woken, not polled), signed with every configured secret.
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { enqueuePaymentEvent, wakeWebhookDispatcher } from '../../src/webhooks/outbox.js'
import { testProvider } from '../database.js'
import { startTestService, type TestService, waitFor } from '../harness.js'
import {
  changePaymentState,
  createTestPayment,
  expectSignedWith,
  newWebhookSecret,
  startReceiver, type Receiver,
} from './webhook-harness.js'

const secrets = [newWebhookSecret(), newWebhookSecret()]
let service: TestService
let receiver: Receiver

beforeAll(async () => {
  receiver = await startReceiver()
  service = await startTestService({
    DJANGO_BASE_URL: receiver.url,
    WEBHOOK_PATH: '/hooks/payments',
    WEBHOOK_SECRET: secrets.join(','),
    // An hour: only a wake-up on commit can explain a delivery within the test.
    WEBHOOK_POLL_INTERVAL_MS: '3600000',
  })
})
afterAll(async () => {
  await service.close()
  await receiver.close()
})
afterEach(() => {
  receiver.received.length = 0
})

const deliveriesFor = (pendingId: string) => receiver.received.filter((d) => d.json.pendingId === pendingId)

describe('outbox and delivery after commit', () => {
  it('delivers a committed change soon after commit, in the contract shape, signed with every secret', async () => {
    const payment = await createTestPayment(service, { outgoingPaymentId: 'https://wallet.example/outgoing-payments/1' })
    const event = await changePaymentState(service, payment, 'COMPLETED', { wake: true })

    const [delivery] = await waitFor(() => deliveriesFor(payment.id).length === 1 && deliveriesFor(payment.id))
    expect(delivery.json).toEqual({
      id: event.id,
      type: 'payment.completed',
      pendingId: payment.id,
      offerId: 'offer-42',
      status: 'paid',
      state: 'COMPLETED',
      outgoingPaymentId: 'https://wallet.example/outgoing-payments/1',
      amount: '1250',
      assetCode: 'USD',
      assetScale: 2,
      debitAmount: null,
      timestamp: event.createdAt.toISOString(),
    })
    expect(delivery.headers['content-type']).toBe('application/json')
    expectSignedWith(delivery, secrets)
    await waitFor(async () => (await service.db.webhookEvent.findUnique({ where: { id: event.id } }))?.status === 'DELIVERED')
    const stored = await service.db.webhookEvent.findUniqueOrThrow({ where: { id: event.id } })
    expect(stored).toMatchObject({ attempts: 1, lastStatusCode: 200, lastError: null, leaseUntil: null })
  })

  it('keeps the seller\'s amount and adds what the buyer\'s wallet debits, in the buyer\'s asset', async () => {
    const payment = await createTestPayment(service, { debitAmount: '910', debitAssetCode: 'EUR', debitAssetScale: 2, receiveAmount: '1250' })
    await changePaymentState(service, payment, 'COMPLETED', { wake: true })
    const [delivery] = await waitFor(() => deliveriesFor(payment.id).length === 1 && deliveriesFor(payment.id))
    expect(delivery.json).toMatchObject({ amount: '1250', assetCode: 'USD', assetScale: 2, debitAmount: { value: '910', assetCode: 'EUR', assetScale: 2 } })
  })

  it('sends nothing while the transaction is open, and sends it once it commits', async () => {
    const payment = await createTestPayment(service)
    await service.db.$transaction(async (tx) => {
      const updated = await tx.payment.update({ where: { id: payment.id }, data: { state: 'FAILED', failureCode: 'QUOTE_FAILED', failureMessage: 'no route' } })
      await enqueuePaymentEvent(service.deps, tx, updated)
      wakeWebhookDispatcher(service.deps)
      await sleep(300)
      expect(receiver.received).toHaveLength(0)
    })
    // After the commit, as src/payments/transitions.ts does. (On SQLite the wake-up above already
    // waits for the commit: its one connection keeps queries out of an open transaction.)
    wakeWebhookDispatcher(service.deps)
    const [delivery] = await waitFor(() => deliveriesFor(payment.id).length === 1 && deliveriesFor(payment.id))
    expect(delivery.json).toMatchObject({ type: 'payment.failed', status: 'failed', failureCode: 'QUOTE_FAILED', failureMessage: 'no route' })
  })

  it('writes and sends nothing when the transaction rolls back', async () => {
    const payment = await createTestPayment(service)
    await expect(
      service.db.$transaction(async (tx) => {
        const updated = await tx.payment.update({ where: { id: payment.id }, data: { state: 'EXPIRED' } })
        await enqueuePaymentEvent(service.deps, tx, updated)
        throw new Error('checkout failed after writing the event')
      }),
    ).rejects.toThrow('checkout failed')
    wakeWebhookDispatcher(service.deps)
    await sleep(300)
    expect(await service.db.webhookEvent.count({ where: { paymentId: payment.id } })).toBe(0)
    expect((await service.db.payment.findUniqueOrThrow({ where: { id: payment.id } })).state).toBe('AWAITING_APPROVAL')
    expect(receiver.received).toHaveLength(0)
  })

  it('has an event type for every state, and never puts tokens, nonces or keys in the body', async () => {
    const payment = await createTestPayment(service, {
      continueToken: 'SECRET-continue-token',
      accessToken: 'SECRET-access-token',
      clientNonce: 'SECRET-client-nonce',
      finishNonce: 'SECRET-finish-nonce',
      interactRef: 'SECRET-interact-ref',
    })
    const states = ['FINISHING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REJECTED', 'EXPIRED', 'AWAITING_APPROVAL'] as const
    for (const state of states) await changePaymentState(service, payment, state)
    wakeWebhookDispatcher(service.deps)
    const deliveries = await waitFor(() => deliveriesFor(payment.id).length === states.length && deliveriesFor(payment.id))
    expect(deliveries.map((d) => d.json.type)).toEqual([
      'payment.approved',
      'payment.processing',
      'payment.completed',
      'payment.failed',
      'payment.rejected',
      'payment.expired',
      'payment.created',
    ])
    for (const delivery of deliveries) expect(delivery.body).not.toContain('SECRET')
    const logs = service.logs.join('')
    expect(logs).not.toContain('SECRET')
    for (const secret of secrets) expect(logs).not.toContain(secret.slice(6))
  })

  // Another replica commits an event and sends NOTIFY (what its wakeWebhookDispatcher does): this
  // process's dispatcher, polling once an hour, must deliver it at once.
  it.runIf(testProvider === 'postgresql')('on PostgreSQL, wakes on a NOTIFY from another replica, and only then', async () => {
    // The earlier tests' deliveries end with a claim for more (the worker's refill): let it find
    // nothing before this test commits its event, or that claim, not the NOTIFY, would send it.
    await waitFor(async () => (await service.db.webhookEvent.count({ where: { status: 'PENDING' } })) === 0)
    await sleep(300)
    const payment = await createTestPayment(service)
    const event = await changePaymentState(service, payment, 'REJECTED')
    await sleep(500)
    expect(deliveriesFor(payment.id)).toHaveLength(0)
    const otherReplica = new pg.Client({ connectionString: service.databaseUrl })
    await otherReplica.connect()
    await otherReplica.query("SELECT pg_notify('webhook_events', 'another replica')")
    await otherReplica.end()
    const [delivery] = await waitFor(() => deliveriesFor(payment.id).length === 1 && deliveriesFor(payment.id), 3000)
    expect(delivery.json).toMatchObject({ id: event.id, type: 'payment.rejected' })
  })
})

