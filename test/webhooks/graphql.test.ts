// Visibility and redelivery through GraphQL: the webhookEvents connection and redeliverWebhookEvent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService, waitFor } from '../harness.js'
import { changePaymentState, createTestPayment, newWebhookSecret, startReceiver, type Receiver } from './webhook-harness.js'

let service: TestService
let receiver: Receiver

beforeAll(async () => {
  receiver = await startReceiver()
  service = await startTestService({ DJANGO_BASE_URL: receiver.url, WEBHOOK_SECRET: newWebhookSecret(), WEBHOOK_POLL_INTERVAL_MS: '3600000' })
})
afterAll(async () => {
  await service.close()
  await receiver.close()
})

const EVENTS = /* GraphQL */ `
  query Events($filter: WebhookEventFilter, $first: Int, $after: String) {
    webhookEvents(filter: $filter, first: $first, after: $after) {
      edges { node { id eventId pendingId type status attempts lastError lastStatusCode nextAttemptAt deliveredAt payload } }
      pageInfo { hasNextPage endCursor }
    }
  }
`
const REDELIVER = /* GraphQL */ `
  mutation Redeliver($id: ID!) {
    redeliverWebhookEvent(input: { id: $id }) {
      __typename
      ... on RedeliverWebhookEventPayload { event { eventId status attempts nextAttemptAt } }
      ... on Error { code message }
    }
  }
`

describe('webhookEvents and redeliverWebhookEvent', () => {
  it('lists events with their delivery state, filtered and paged, and redelivers a dead one', async () => {
    const payment = await createTestPayment(service)
    receiver.respond = () => ({ status: 410, body: 'offer deleted' })
    const dead = await changePaymentState(service, payment, 'PROCESSING', { wake: true })
    await waitFor(async () => (await service.db.webhookEvent.findUniqueOrThrow({ where: { id: dead.id } })).status === 'DEAD')
    receiver.respond = () => ({ status: 200 })
    const delivered = await changePaymentState(service, payment, 'COMPLETED', { wake: true })
    await waitFor(async () => (await service.db.webhookEvent.findUniqueOrThrow({ where: { id: delivered.id } })).status === 'DELIVERED')

    const all = await service.graphql(EVENTS, { filter: { pendingId: payment.id } })
    expect(all.errors).toBeUndefined()
    const nodes = all.data.webhookEvents.edges.map((e: any) => e.node)
    expect(nodes.map((n: any) => n.eventId)).toEqual([delivered.id, dead.id]) // newest first
    expect(nodes[1]).toMatchObject({
      pendingId: payment.id,
      type: 'payment.processing',
      status: 'DEAD',
      attempts: 1,
      lastError: 'HTTP 410: offer deleted',
      lastStatusCode: 410,
      nextAttemptAt: null,
      deliveredAt: null,
    })
    expect(nodes[1].payload).toMatchObject({ id: dead.id, pendingId: payment.id, status: 'pending' })
    expect(nodes[0]).toMatchObject({ status: 'DELIVERED', lastStatusCode: 200, lastError: null })

    const deadOnly = await service.graphql(EVENTS, { filter: { paymentId: payment.id, status: 'DEAD', type: 'payment.processing' } })
    expect(deadOnly.data.webhookEvents.edges.map((e: any) => e.node.eventId)).toEqual([dead.id])
    const page1 = await service.graphql(EVENTS, { filter: { pendingId: payment.id }, first: 1 })
    expect(page1.data.webhookEvents.pageInfo.hasNextPage).toBe(true)
    const page2 = await service.graphql(EVENTS, { filter: { pendingId: payment.id }, first: 1, after: page1.data.webhookEvents.pageInfo.endCursor })
    expect(page2.data.webhookEvents.edges.map((e: any) => e.node.eventId)).toEqual([dead.id])

    const before = receiver.received.length
    const redelivered = await service.graphql(REDELIVER, { id: nodes[1].id }) // the node id works, and so does the event id
    expect(redelivered.data.redeliverWebhookEvent).toMatchObject({ __typename: 'RedeliverWebhookEventPayload', event: { eventId: dead.id, status: 'PENDING', attempts: 0 } })
    await waitFor(async () => (await service.db.webhookEvent.findUniqueOrThrow({ where: { id: dead.id } })).status === 'DELIVERED')
    expect(receiver.received.slice(before).map((d) => d.json.id)).toEqual([dead.id])

    const again = await service.graphql(REDELIVER, { id: dead.id })
    expect(again.data.redeliverWebhookEvent.event.status).toBe('PENDING')
    await waitFor(() => receiver.received.slice(before).length === 2)
    expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(dead.id)
  })

  it('answers a typed error for an unknown event', async () => {
    const res = await service.graphql(REDELIVER, { id: '01JCNOSUCHEVENT0000000000' })
    expect(res.errors).toBeUndefined()
    expect(res.data.redeliverWebhookEvent).toEqual({ __typename: 'AppError', code: 'EVENT_NOT_FOUND', message: 'No webhook event has this id' })
  })

  it('requires the API token', async () => {
    const res = await service.graphql(EVENTS, {}, null)
    expect(res.data?.webhookEvents ?? null).toBeNull()
  })
})
