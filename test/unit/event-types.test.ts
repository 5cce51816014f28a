import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { $Enums, type Payment } from '../../src/generated/sqlite/client.js'
import { buildPaymentEventBody } from '../../src/webhooks/outbox.js'
import { eventTypeOf, paymentEventFields, paymentEventTypes } from '../../src/webhooks/event-types.js'
import { restStatusOf } from '../../src/payments/state.js'

describe('the event catalogue', () => {
  it('has exactly one event type per payment state, final exactly where the REST status is', () => {
    const states = Object.values($Enums.PaymentState)
    expect(paymentEventTypes.map((e) => e.state).sort()).toEqual([...states].sort())
    expect(new Set(paymentEventTypes.map((e) => e.type)).size).toBe(paymentEventTypes.length)
    for (const e of paymentEventTypes) {
      expect(eventTypeOf[e.state]).toBe(e.type)
      expect(e.final, e.type).toBe(restStatusOf[e.state] !== 'pending')
    }
  })

  it('is what the README documents, row for row', () => {
    const readme = fs.readFileSync('README.md', 'utf8')
    const rows = [...readme.matchAll(/^\| `(payment\.[a-z]+)` \| ([A-Z_]+) \| (.+) \|$/gm)].map((m) => ({ type: m[1], state: m[2], when: m[3] }))
    expect(rows).toEqual(paymentEventTypes.map(({ type, state, when }) => ({ type, state, when })))
  })

  it('lists the fields a payment event body carries, in order', () => {
    const payment = {
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', offerId: 'o', state: 'FAILED', outgoingPaymentId: null, amount: '1', assetCode: 'USD', assetScale: 2,
      failureCode: 'X', failureMessage: 'y',
    } as unknown as Payment
    const body = buildPaymentEventBody('01ARZ3NDEKTSV4RRFFQ69G5FAW', payment, eventTypeOf.FAILED, new Date())
    expect(Object.keys(body)).toEqual(paymentEventFields.map((f) => f.replace('?', '')))
  })
})
