// The checkout state machine and how it maps to the contract's three REST statuses.
//
//   AWAITING_APPROVAL --finish verified--> FINISHING --outgoing payment created--> PROCESSING --money received--> COMPLETED
//          |                                   |                                        |
//          +--buyer rejected--> REJECTED       +--grant/quote/wallet failure--> FAILED  +--funding failed / expired short--> FAILED
//          +--consent abandoned--> EXPIRED
import type { PaymentState } from '../db.js'

export type RestStatus = 'pending' | 'paid' | 'failed'

export const restStatusOf: Record<PaymentState, RestStatus> = {
  AWAITING_APPROVAL: 'pending',
  FINISHING: 'pending',
  PROCESSING: 'pending',
  COMPLETED: 'paid',
  FAILED: 'failed',
  REJECTED: 'failed',
  EXPIRED: 'failed',
}
