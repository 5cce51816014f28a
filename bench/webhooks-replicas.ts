// Webhook latency across replicas, on PostgreSQL: events committed on replica A (this process, which
// runs no worker) are delivered by the other replicas (REPLICAS processes running every worker,
// bench/support/webhook-replica.ts), woken by LISTEN/NOTIFY. Commit-to-delivery p50 and p99 for
// single events (one committed, delivered, then the next) and for a burst; and how many deliveries
// were duplicates (none expected: claims are leased). Loopback only, bounded; not a test.
//
//   npx tsx bench/webhooks-replicas.ts [burst=500] [replicas=2]
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { ulid } from 'ulid'
import { parseConfig } from '../src/config.js'
import { migrateDatabase, type Payment, type Prisma } from '../src/db.js'
import type { Deps } from '../src/deps.js'
import { createLogger } from '../src/logger.js'
import { enqueuePaymentEvent, wakeWebhookDispatcher } from '../src/webhooks/outbox.js'
import { startChild, type ChildServer } from './support/child.js'
import { openServiceDeps } from './support/service-deps.js'
import { printTable, summarizeLatencies } from './support/stats.js'

const BURST = Math.min(Number(process.argv[2] ?? 500), 5000)
const REPLICAS = Math.min(Number(process.argv[3] ?? 2), 4)
const SINGLE_EVENTS = 40
const TIME_LIMIT_MS = 30_000
const devPostgresUrl = process.env.DEV_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

async function onServer(sql: string) {
  const client = new pg.Client({ connectionString: devPostgresUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

async function main() {
  const receivedAt = new Map<string, number>()
  let duplicates = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const id = JSON.parse(Buffer.concat(chunks).toString()).id
      if (receivedAt.has(id)) duplicates++
      else receivedAt.set(id, performance.now())
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const received = async (ids: string[]) => {
    const deadline = Date.now() + TIME_LIMIT_MS
    while (!ids.every((id) => receivedAt.has(id))) {
      if (Date.now() > deadline) throw new Error(`only ${ids.filter((id) => receivedAt.has(id)).length} of ${ids.length} delivered in ${TIME_LIMIT_MS} ms`)
      await sleep(1)
    }
  }

  const name = `bench_replicas_${Date.now().toString(36)}`
  await onServer(`CREATE DATABASE "${name}"`)
  const url = new URL(devPostgresUrl)
  url.pathname = `/${name}`
  const databaseUrl = url.toString()
  const env = {
    DATABASE_URL: databaseUrl,
    DJANGO_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    WEBHOOK_SECRET: `whsec_${Buffer.from('bench-secret-bench-secret-32byte').toString('base64')}`,
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    // A minute: deliveries here follow a NOTIFY from replica A, not a poll.
    WEBHOOK_POLL_INTERVAL_MS: '60000',
    LOG_LEVEL: 'warn',
  }
  const replicas: ChildServer<{ pid: number }>[] = []
  let replicaA: Deps | undefined
  try {
    await migrateDatabase(databaseUrl)
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startChild(path.join(import.meta.dirname, 'support', 'webhook-replica.ts'), env))
    // Replica A: a service's Deps without its workers (nor its HTTP side).
    const deps = await openServiceDeps(parseConfig(env), { logger: createLogger('warn') })
    replicaA = deps
    const { prisma } = deps.db
    await prisma.seller.create({ data: { id: 'bench', walletAddressUrl: 'https://wallet.example/bench', keyId: 'k', privateKeyPath: 'k.pem' } })
    const createPayments = async (count: number): Promise<Payment[]> => {
      const data = Array.from({ length: count }, (_, i) => ({ id: ulid(), offerId: `offer-${i}`, sellerId: 'bench', buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: '100', assetCode: 'USD', assetScale: 2 }))
      await prisma.payment.createMany({ data })
      return prisma.payment.findMany({ where: { id: { in: data.map((p) => p.id) } } })
    }
    const commitEvent = (tx: Prisma.TransactionClient, payment: Payment) =>
      tx.payment.update({ where: { id: payment.id }, data: { state: 'COMPLETED' } }).then((updated) => enqueuePaymentEvent(deps, tx, updated))

    // Single events: committed on A, announced (NOTIFY), delivered by another replica, then the next.
    const single: number[] = []
    for (const payment of await createPayments(SINGLE_EVENTS)) {
      const event = await prisma.$transaction((tx) => commitEvent(tx, payment))
      const committedAt = performance.now()
      wakeWebhookDispatcher(deps)
      await received([event.id])
      single.push(receivedAt.get(event.id)! - committedAt)
      await sleep(5)
    }

    // A burst: committed on A in transactions of 100, each announced after its commit.
    const burstPayments = await createPayments(BURST)
    const committedAt = new Map<string, number>()
    const began = performance.now()
    for (let i = 0; i < burstPayments.length; i += 100) {
      const events = await prisma.$transaction(async (tx) => {
        const written = []
        for (const payment of burstPayments.slice(i, i + 100)) written.push(await commitEvent(tx, payment))
        return written
      }, { timeout: 60_000, maxWait: 60_000 }) // a loaded machine is slow, not wrong
      const at = performance.now()
      for (const event of events) committedAt.set(event.id, at)
      wakeWebhookDispatcher(deps)
    }
    await received([...committedAt.keys()])
    const burstDelays = [...committedAt].map(([id, at]) => receivedAt.get(id)! - at)
    const burstSeconds = (Math.max(...[...committedAt.keys()].map((id) => receivedAt.get(id)!)) - began) / 1000
    await sleep(500) // a late duplicate would show here
    const delivered = await prisma.webhookEvent.count({ where: { status: 'DELIVERED' } })

    console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores; PostgreSQL; replica A commits, ${REPLICAS} other replicas deliver`)
    const s = summarizeLatencies(single)
    const b = summarizeLatencies(burstDelays)
    printTable(
      ['', 'events', 'events/s', 'p50 ms', 'p99 ms'],
      [
        ['single events, commit on A to delivery', SINGLE_EVENTS, '-', s.p50, s.p99],
        [`burst, commits on A (100 a transaction) to delivery`, BURST, BURST / burstSeconds, b.p50, b.p99],
      ],
    )
    console.log(`${delivered} DELIVERED in the outbox; ${duplicates} duplicate deliveries`)
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()))
    await replicaA?.db.close().catch(() => {})
    await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await new Promise((resolve) => (server.closeAllConnections(), server.close(resolve)))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
