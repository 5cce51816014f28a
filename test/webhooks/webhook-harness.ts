// Test helpers for webhooks: a local receiver that records every delivery, payments written
// straight to the database, events written the way the checkout writes them, and a test clock.
import crypto from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { ulid } from 'ulid'
import { expect } from 'vitest'
import { Webhook } from 'standardwebhooks'
import type { Payment, PaymentState, Prisma } from '../../src/db.js'
import { enqueuePaymentEvent, wakeWebhookDispatcher } from '../../src/webhooks/outbox.js'
import type { TestService } from '../harness.js'

export const newWebhookSecret = () => `whsec_${crypto.randomBytes(24).toString('base64')}`

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders
  body: string
  json: any
  receivedAt: number
}

/** What the receiver does with a request: answer it, cut the connection, or never answer. */
export type ReceiverAction = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number; until?: Promise<unknown> } | 'drop' | 'hang'

export interface Receiver {
  url: string
  received: ReceivedWebhook[]
  /** Decides each answer (default 200); sees the delivery already recorded. */
  respond: (delivery: ReceivedWebhook) => ReceiverAction
  /** Ends every request left hanging (the dispatcher sees a connection error). */
  releaseHanging(): void
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<http.ServerResponse>()
  const receiver: Receiver = {
    url: '',
    received: [],
    respond: () => ({ status: 200 }),
    releaseHanging: () => {
      for (const res of hanging) res.socket?.destroy()
      hanging.clear()
    },
    close: () => new Promise((resolve) => {
      receiver.releaseHanging()
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString()
      const delivery = { headers: req.headers, body, json: JSON.parse(body), receivedAt: performance.now() }
      receiver.received.push(delivery)
      const action = receiver.respond(delivery)
      if (action === 'drop') return void req.socket.destroy()
      if (action === 'hang') return void hanging.add(res)
      if (action.delayMs) await sleep(action.delayMs)
      if (action.until) await action.until
      res.writeHead(action.status, action.headers).end(action.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return receiver
}

/** Asserts that the delivery verifies with the standardwebhooks library under each secret on its own. */
export function expectSignedWith(delivery: ReceivedWebhook, secrets: string[]) {
  expect(delivery.headers['webhook-id']).toBe(delivery.json.id)
  expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(secrets.length)
  for (const secret of secrets) {
    expect(new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>)).toEqual(delivery.json)
  }
}

/** A new payment's row, of the seller createTestPayment registers (for createMany). */
export function testPaymentData(data: Partial<Prisma.PaymentUncheckedCreateInput> = {}): Prisma.PaymentUncheckedCreateInput {
  return {
    id: ulid(),
    offerId: 'offer-42',
    sellerId: 'webhook-seller',
    buyerWalletAddressUrl: 'https://wallet.example/buyer',
    amount: '1250',
    assetCode: 'USD',
    assetScale: 2,
    ...data,
  }
}

export async function createTestPayment(service: TestService, data: Partial<Prisma.PaymentUncheckedCreateInput> = {}): Promise<Payment> {
  await service.db.seller.upsert({
    where: { id: 'webhook-seller' },
    create: { id: 'webhook-seller', walletAddressUrl: 'https://wallet.example/seller', keyId: 'k1', privateKeyPath: 'seller.key' },
    update: {},
  })
  return service.db.payment.create({ data: testPaymentData(data) })
}

/** Moves the payment to `state` and writes its event in one transaction, as the checkout does; wakes the dispatcher when asked. */
export async function changePaymentState(
  service: TestService,
  payment: Payment,
  state: PaymentState,
  opts: { wake?: boolean; data?: Prisma.PaymentUpdateInput } = {},
) {
  const event = await service.db.$transaction(async (tx) => {
    const updated = await tx.payment.update({ where: { id: payment.id }, data: { ...opts.data, state } })
    return enqueuePaymentEvent(service.deps, tx, updated)
  })
  if (opts.wake) wakeWebhookDispatcher(service.deps, payment.id)
  return event
}

/** Real time plus an offset the test moves forward: days pass in an instant, and events written "now" are due. */
export function createTestClock() {
  let offsetMs = 0
  return {
    now: () => new Date(Date.now() + offsetMs),
    set: (at: Date) => void (offsetMs = at.getTime() - Date.now()),
    advance: (ms: number) => void (offsetMs += ms),
  }
}
