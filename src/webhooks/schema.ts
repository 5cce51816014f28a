import { decodeGlobalID } from '@pothos/plugin-relay'
import { builder } from '../graphql/builder.js'
import type { Prisma, WebhookEvent } from '../db.js'
import { AppError } from '../errors.js'
import { describeEventTypes } from './event-types.js'
import { requeueWebhookEvent, wakeWebhookDispatcher } from './outbox.js'

const WebhookEventStatusEnum = builder.enumType('WebhookEventStatus', {
  values: {
    PENDING: { description: 'Waiting for its first or next attempt (or in flight).' },
    DELIVERED: { description: 'The marketplace answered 2xx.' },
    DEAD: { description: 'Given up: a permanent 4xx answer or the retry schedule ran out. Redeliver to try again.' },
  } as const,
})

export const WebhookEventRef = builder.prismaNode('WebhookEvent', {
  id: { field: 'id' },
  nullable: true, // node(id) of an unknown row is null (src/graphql/node.ts)
  description: 'A webhook notification to the marketplace, from the transactional outbox.',
  fields: (t) => ({
    eventId: t.exposeString('id', { description: 'The event id: the body\'s `id` and the `webhook-id` header.' }),
    pendingId: t.exposeString('paymentId', { nullable: true, description: 'The payment this event reports; null for an event about something else.' }),
    type: t.exposeString('type'),
    status: t.field({ type: WebhookEventStatusEnum, resolve: (event) => event.status }),
    payload: t.field({ type: 'JSON', description: 'The JSON body sent.', resolve: (event) => JSON.parse(event.payload) }),
    attempts: t.exposeInt('attempts', { description: 'Attempts since the event was written or last redelivered.' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due; null once DELIVERED or DEAD.',
      resolve: (event) => (event.status === 'PENDING' ? event.nextAttemptAt : null),
    }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

const WebhookEventFilter = builder.inputType('WebhookEventFilter', {
  fields: (t) => ({
    paymentId: t.string({ description: 'The payment (its pendingId).' }),
    pendingId: t.string({ description: 'Same as paymentId, in the REST contract\'s words.' }),
    status: t.field({ type: WebhookEventStatusEnum }),
    type: t.string({ description: `One of: ${describeEventTypes()}.` }),
  }),
})

builder.queryField('webhookEvents', (t) =>
  t.prismaConnection({
    type: 'WebhookEvent',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 500,
    description: 'Webhook events, newest first.',
    args: { filter: t.arg({ type: WebhookEventFilter }) },
    resolve: (query, _root, { filter }, { deps }) => {
      const paymentId = filter?.paymentId ?? filter?.pendingId
      const where: Prisma.WebhookEventWhereInput = {
        ...(paymentId ? { paymentId } : {}),
        ...(filter?.status ? { status: filter.status } : {}),
        ...(filter?.type ? { type: filter.type } : {}),
      }
      return deps.db.prisma.webhookEvent.findMany({ ...query, where, orderBy: { id: 'desc' } })
    },
  }),
)

/** Accepts the event id the marketplace saw (webhook-id) or the GraphQL node id. */
function parseEventId(id: string): string {
  try {
    const decoded = decodeGlobalID(id)
    if (decoded.typename === 'WebhookEvent') return decoded.id
  } catch {
    // not a node id
  }
  return id
}

const RedeliverWebhookEventInput = builder.inputType('RedeliverWebhookEventInput', {
  fields: (t) => ({
    id: t.id({ required: true, description: 'The event id (webhook-id) or its node id.' }),
  }),
})

const RedeliverWebhookEventPayload = builder
  .objectRef<{ event: WebhookEvent }>('RedeliverWebhookEventPayload')
  .implement({ fields: (t) => ({ event: t.field({ type: WebhookEventRef, resolve: (payload) => payload.event }) }) })

builder.mutationField('redeliverWebhookEvent', (t) =>
  t.field({
    type: RedeliverWebhookEventPayload,
    description: 'Makes the event PENDING and due now, whatever its status; the marketplace deduplicates on its id.',
    args: { input: t.arg({ type: RedeliverWebhookEventInput, required: true }) },
    errors: {},
    resolve: async (_root, { input }, { deps }) => {
      const event = await requeueWebhookEvent(deps, parseEventId(String(input.id)))
      if (!event) throw new AppError('EVENT_NOT_FOUND', 'No webhook event has this id', { field: 'id' })
      wakeWebhookDispatcher(deps, event.paymentId)
      return { event }
    },
  }),
)
