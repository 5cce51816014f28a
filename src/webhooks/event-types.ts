// The catalogue of events, declared once: each type, the payment state that fires it, and when.
// It drives the outbox (which type a state change writes), the webhook documentation (README,
// checked by a test), the GraphQL descriptions of WebhookEvent.type and of the live subscription.
import type { PaymentState } from '../db.js'

export const paymentEventTypes = [
  { type: 'payment.created', state: 'AWAITING_APPROVAL', final: false, when: 'a checkout started: the buyer was sent to their wallet to approve' },
  { type: 'payment.approved', state: 'FINISHING', final: false, when: 'the buyer approved and the redirect was verified; the payment is being made' },
  { type: 'payment.processing', state: 'PROCESSING', final: false, when: "the buyer's wallet accepted the outgoing payment; waiting for the money to arrive" },
  { type: 'payment.completed', state: 'COMPLETED', final: true, when: "the seller's wallet received the full amount (REST status paid)" },
  { type: 'payment.failed', state: 'FAILED', final: true, when: 'the payment could not be made; failureCode and failureMessage say why' },
  { type: 'payment.rejected', state: 'REJECTED', final: true, when: 'the buyer rejected the payment in their wallet' },
  { type: 'payment.expired', state: 'EXPIRED', final: true, when: 'the buyer did not approve in time' },
] as const satisfies readonly { type: string; state: PaymentState; final: boolean; when: string }[]

export type PaymentEventType = (typeof paymentEventTypes)[number]['type']

/** The event type announcing that a payment entered `state`. */
export const eventTypeOf = Object.fromEntries(paymentEventTypes.map((e) => [e.state, e.type])) as Record<PaymentState, PaymentEventType>

/** The fields of every payment event body, in the order they are sent (see buildPaymentEventBody). */
export const paymentEventFields = [
  'id', 'type', 'pendingId', 'offerId', 'status', 'state', 'outgoingPaymentId', 'amount', 'assetCode', 'assetScale', 'debitAmount', 'failureCode?', 'failureMessage?', 'timestamp',
] as const

/** One line per type, for descriptions: "payment.completed: the seller's wallet received …". */
export const describeEventTypes = (only: (e: (typeof paymentEventTypes)[number]) => boolean = () => true) =>
  paymentEventTypes.filter(only).map((e) => `${e.type} (${e.state}): ${e.when}`).join('; ')
