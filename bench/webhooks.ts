// Webhook delivery benchmark: events per second and commit-to-delivery delay (p50, p99) through the
// outbox and dispatcher, side by side with the floor: a bare loop posting the same payloads
// straight to the same receiver. Loopback only, bounded in count and time; not a test.
//
//   npx tsx bench/webhooks.ts [events=1000]
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { ulid } from 'ulid'
import { parseConfig, useConfig } from '../src/config.js'
import { closeDatabase, db, migrateDatabase, openDatabase } from '../src/db.js'
import { createLogger, useLogger } from '../src/logger.js'
import { startWebhookDispatcher } from '../src/webhooks/dispatcher.js'
import { enqueuePaymentEvent, wakeWebhookDispatcher } from '../src/webhooks/outbox.js'

const EVENTS = Math.min(Number(process.argv[2] ?? 1000), 5000)
const TIME_LIMIT_MS = 20_000

interface Run {
  label: string
  perSecond: number
  p50: number
  p99: number
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

function summarize(label: string, readyAt: Map<string, number>, receivedAt: Map<string, number>): Run {
  const delays = [...readyAt].map(([id, at]) => receivedAt.get(id)! - at).sort((a, b) => a - b)
  const first = Math.min(...readyAt.values())
  const last = Math.max(...receivedAt.values())
  return { label, perSecond: (readyAt.size / (last - first)) * 1000, p50: percentile(delays, 50), p99: percentile(delays, 99) }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-webhooks-'))
  const receivedAt = new Map<string, number>()
  let waiting: { count: number; resolve: () => void } | undefined
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      receivedAt.set(JSON.parse(Buffer.concat(chunks).toString()).id, performance.now())
      res.writeHead(204).end()
      if (waiting && receivedAt.size >= waiting.count) waiting.resolve()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  const allReceived = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${receivedAt.size} of ${count} delivered in ${TIME_LIMIT_MS} ms`)), TIME_LIMIT_MS)
      waiting = { count, resolve: () => (clearTimeout(timer), resolve()) }
      if (receivedAt.size >= count) waiting.resolve()
    })

  const databaseUrl = `file:${path.join(dir, 'bench.db')}`
  const cfg = useConfig(
    parseConfig({
      DATABASE_URL: databaseUrl,
      DJANGO_BASE_URL: receiverUrl,
      WEBHOOK_SECRET: `whsec_${Buffer.from('bench-secret-bench-secret-32byte').toString('base64')}`,
      LOG_LEVEL: 'silent',
    }),
  )
  useLogger(createLogger(process.env.LOG_LEVEL ?? 'warn'))
  await migrateDatabase(databaseUrl)
  await openDatabase(databaseUrl)
  await db.seller.create({ data: { id: 'bench', walletAddressUrl: 'https://wallet.example/bench', keyId: 'k', privateKeyPath: 'k.pem' } })
  const payments = []
  for (let i = 0; i < EVENTS; i++) {
    payments.push(
      await db.payment.create({
        data: { id: ulid(), offerId: `offer-${i}`, sellerId: 'bench', buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: '100', assetCode: 'USD', assetScale: 2 },
      }),
    )
  }

  // Through the outbox: each change commits with its event, then wakes the dispatcher, as checkout does.
  const dispatcher = startWebhookDispatcher()
  const committedAt = new Map<string, number>()
  const payloads: string[] = []
  for (const payment of payments) {
    const event = await db.$transaction(async (tx) => {
      const updated = await tx.payment.update({ where: { id: payment.id }, data: { state: 'COMPLETED' } })
      return enqueuePaymentEvent(tx, updated)
    })
    committedAt.set(event.id, performance.now())
    payloads.push(event.payload)
    wakeWebhookDispatcher()
  }
  await allReceived(EVENTS)
  await dispatcher.stop()
  const outbox = summarize('outbox + dispatcher', committedAt, receivedAt)

  // The floor: the same payloads posted one after another by a bare loop, no database, no signing.
  receivedAt.clear()
  const readyAt = new Map<string, number>()
  for (const payload of payloads) {
    readyAt.set(JSON.parse(payload).id, performance.now())
    const res = await fetch(cfg.webhooks.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload })
    await res.arrayBuffer()
  }
  await allReceived(EVENTS)
  const floor = summarize('bare loop (floor)', readyAt, receivedAt)

  const delivered = await db.webhookEvent.count({ where: { status: 'DELIVERED' } })
  console.log(`${EVENTS} events, one per payment, to ${cfg.webhooks.url}; ${delivered} DELIVERED in the outbox`)
  console.log('                          events/s    p50 ms    p99 ms')
  for (const run of [outbox, floor]) {
    console.log(`${run.label.padEnd(24)} ${run.perSecond.toFixed(0).padStart(9)} ${run.p50.toFixed(2).padStart(9)} ${run.p99.toFixed(2).padStart(9)}`)
  }
  console.log(
    `ratio outbox/floor:  throughput ${(outbox.perSecond / floor.perSecond).toFixed(2)}x, p50 delay ${(outbox.p50 / floor.p50).toFixed(1)}x, p99 delay ${(outbox.p99 / floor.p99).toFixed(1)}x`,
  )

  await closeDatabase()
  await new Promise((resolve) => receiver.close(resolve))
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
