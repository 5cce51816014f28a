// Webhook delivery benchmark: the outbox and its worker (src/workers/deliver-webhooks.ts) against
// the floor, a bare loop posting the same payloads straight to the same receiver, side by side in
// one run, on SQLite and on PostgreSQL (when the server at DEV_POSTGRES_URL answers). Three shapes:
//  - a burst: EVENTS events (one per payment) committed at once, then announced; events/s from the
//    announcement to the last delivery, and each event's announcement-to-delivery delay;
//  - the same count committed one at a time (one transaction each, as checkouts do, each announced):
//    the bench's own writer paces this one;
//  - single events: one committed, delivered, then the next; commit-to-delivery delay (target p50 <= 50 ms).
// Loopback only, bounded in count and time; not a test. Across replicas: bench/webhooks-replicas.ts.
//
//   npx tsx bench/webhooks.ts [events=1000]          (BENCH_DATABASES=sqlite: one provider only)
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { ulid } from 'ulid'
import type { Logger } from 'pino'
import { parseConfig } from '../src/config.js'
import { migrateDatabase, type Payment, type Prisma } from '../src/db.js'
import type { Deps } from '../src/deps.js'
import { createLogger } from '../src/logger.js'
import { enqueuePaymentEvent, wakeWebhookDispatcher } from '../src/webhooks/outbox.js'
import { deliverWebhooksJob } from '../src/workers/deliver-webhooks.js'
import { startWorker } from '../src/workers/worker.js'
import { openServiceDeps } from './support/service-deps.js'
import { printTable, summarizeLatencies } from './support/stats.js'

const EVENTS = Math.min(Number(process.argv[2] ?? 1000), 5000)
const SINGLE_EVENTS = 40
const BURST_COMMIT_SIZE = 100
const TIME_LIMIT_MS = 30_000
/** BENCH_DATABASES=sqlite (or postgresql) runs one provider only. */
const databases = (process.env.BENCH_DATABASES ?? 'sqlite,postgresql').split(',')
const devPostgresUrl = process.env.DEV_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

interface Row {
  label: string
  perSecond: number
  p50: number
  p99: number
}

/** A local marketplace: records when each event id arrived. */
async function startReceiver() {
  const receivedAt = new Map<string, number>()
  const waiters = new Set<() => void>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      receivedAt.set(JSON.parse(Buffer.concat(chunks).toString()).id, performance.now())
      res.writeHead(204).end()
      for (const waiter of waiters) waiter()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    receivedAt,
    /** Resolves once every id arrived (throws after TIME_LIMIT_MS). */
    async received(ids: string[]): Promise<void> {
      const deadline = Date.now() + TIME_LIMIT_MS
      while (!ids.every((id) => receivedAt.has(id))) {
        if (Date.now() > deadline) throw new Error(`only ${ids.filter((id) => receivedAt.has(id)).length} of ${ids.length} delivered in ${TIME_LIMIT_MS} ms`)
        await new Promise<void>((resolve) => {
          const done = () => (waiters.delete(done), clearTimeout(timer), resolve())
          const timer = setTimeout(done, 50)
          waiters.add(done)
        })
      }
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>

function rowOf(label: string, startedAt: Map<string, number>, receivedAt: Map<string, number>, since?: number): Row {
  const delays = [...startedAt].map(([id, at]) => receivedAt.get(id)! - at)
  const first = since ?? Math.min(...startedAt.values())
  const last = Math.max(...[...startedAt.keys()].map((id) => receivedAt.get(id)!))
  return { label, perSecond: (startedAt.size / (last - first)) * 1000, ...summarizeLatencies(delays) }
}

async function createPayments(deps: Deps, count: number): Promise<Payment[]> {
  const data = Array.from({ length: count }, (_, i) => ({
    id: ulid(),
    offerId: `offer-${i}`,
    sellerId: 'bench',
    buyerWalletAddressUrl: 'https://wallet.example/buyer',
    amount: '100',
    assetCode: 'USD',
    assetScale: 2,
  }))
  for (let i = 0; i < data.length; i += 500) await deps.db.prisma.payment.createMany({ data: data.slice(i, i + 500) })
  return deps.db.prisma.payment.findMany({ where: { id: { in: data.map((p) => p.id) } } })
}

/** One state change and its event in one transaction, as a checkout writes them. */
function commitEvent(deps: Deps, tx: Prisma.TransactionClient, payment: Payment) {
  return tx.payment.update({ where: { id: payment.id }, data: { state: 'COMPLETED' } }).then((updated) => enqueuePaymentEvent(deps, tx, updated))
}

/** The outbox's worker alone (deliverWebhooksJob), on a service's Deps: no HTTP side, no other worker. */
async function measureOutbox(provider: string, databaseUrl: string, receiver: Receiver, logger: Logger): Promise<Row[]> {
  const cfg = parseConfig({
    DATABASE_URL: databaseUrl,
    DJANGO_BASE_URL: receiver.url,
    WEBHOOK_SECRET: `whsec_${Buffer.from('bench-secret-bench-secret-32byte').toString('base64')}`,
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    // An hour: every delivery here follows a wake-up on commit, none a poll.
    WEBHOOK_POLL_INTERVAL_MS: '3600000',
    LOG_LEVEL: 'silent',
  })
  await migrateDatabase(databaseUrl)
  const deps = await openServiceDeps(cfg, { logger })
  const { prisma } = deps.db
  await prisma.seller.create({ data: { id: 'bench', walletAddressUrl: 'https://wallet.example/bench', keyId: 'k', privateKeyPath: 'k.pem' } })
  const worker = startWorker(deps, deliverWebhooksJob(deps))
  try {
    // Single events, one after another.
    const single = new Map<string, number>()
    for (const payment of await createPayments(deps, SINGLE_EVENTS)) {
      const event = await prisma.$transaction((tx) => commitEvent(deps, tx, payment))
      single.set(event.id, performance.now())
      wakeWebhookDispatcher(deps)
      await receiver.received([event.id])
      await sleep(5)
    }

    // A burst: committed at once (in transactions of BURST_COMMIT_SIZE), then announced.
    const burstPayments = await createPayments(deps, EVENTS)
    const burst = new Map<string, number>()
    const ids: string[] = []
    for (let i = 0; i < burstPayments.length; i += BURST_COMMIT_SIZE) {
      const events = await prisma.$transaction(async (tx) => {
        const written = []
        for (const payment of burstPayments.slice(i, i + BURST_COMMIT_SIZE)) written.push(await commitEvent(deps, tx, payment))
        return written
      }, { timeout: 60_000, maxWait: 60_000 }) // a loaded machine is slow, not wrong
      ids.push(...events.map((event) => event.id))
    }
    const announcedAt = performance.now()
    for (const id of ids) burst.set(id, announcedAt)
    wakeWebhookDispatcher(deps)
    await receiver.received(ids)

    // The same count committed one at a time, each announced after its commit.
    const oneByOne = new Map<string, number>()
    for (const payment of await createPayments(deps, EVENTS)) {
      const event = await prisma.$transaction((tx) => commitEvent(deps, tx, payment))
      oneByOne.set(event.id, performance.now())
      wakeWebhookDispatcher(deps)
      // As between two requests of a real writer: on SQLite's synchronous driver a loop of commits
      // would otherwise run on promise callbacks alone and never let the deliveries' sockets be read.
      await new Promise((resolve) => setImmediate(resolve))
    }
    await receiver.received([...oneByOne.keys()])

    return [
      rowOf(`${provider}: burst of ${EVENTS}`, burst, receiver.receivedAt, announcedAt),
      rowOf(`${provider}: ${EVENTS} committed one at a time`, oneByOne, receiver.receivedAt),
      rowOf(`${provider}: single events`, single, receiver.receivedAt),
    ]
  } finally {
    await worker.stop()
    await deps.db.close()
  }
}

/** The floor: the same kind of payload posted by a bare loop (no database, no signing), one after another. */
async function measureFloor(receiver: Receiver, url: string): Promise<Row[]> {
  const post = async (count: number) => {
    const readyAt = new Map<string, number>()
    for (let i = 0; i < count; i++) {
      const id = ulid()
      readyAt.set(id, performance.now())
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, type: 'payment.completed', pendingId: ulid() }) })
      await res.arrayBuffer()
    }
    await receiver.received([...readyAt.keys()])
    return readyAt
  }
  return [rowOf(`floor: bare loop, ${EVENTS} POSTs`, await post(EVENTS), receiver.receivedAt), rowOf('floor: single POSTs', await post(SINGLE_EVENTS), receiver.receivedAt)]
}

async function postgresDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const name = `bench_webhooks_${Date.now().toString(36)}`
  const admin = new pg.Client({ connectionString: devPostgresUrl })
  try {
    await admin.connect()
    await admin.query(`CREATE DATABASE "${name}"`)
  } catch (error) {
    console.log(`PostgreSQL skipped: ${devPostgresUrl} did not answer (${(error as Error).message})`)
    await admin.end().catch(() => {})
    return undefined
  }
  await admin.end()
  const url = new URL(devPostgresUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: devPostgresUrl })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await client.end()
    },
  }
}

async function main() {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-webhooks-'))
  const receiver = await startReceiver()
  const rows: Row[] = []
  try {
    if (databases.includes('sqlite')) rows.push(...(await measureOutbox('SQLite', `file:${path.join(dir, 'bench.db')}`, receiver, logger)))
    const postgres = databases.includes('postgresql') ? await postgresDatabase() : undefined
    if (postgres) {
      try {
        rows.push(...(await measureOutbox('PostgreSQL', postgres.url, receiver, logger)))
      } finally {
        await postgres.drop()
      }
    }
    const floor = await measureFloor(receiver, `${receiver.url}/api/webhooks/payments`)
    rows.push(...floor)

    console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores`)
    printTable(['', 'events/s', 'p50 ms', 'p99 ms'], rows.map((row) => [row.label, row.perSecond, row.p50, row.p99]))
    console.log('\nratios to the floor (bare loop of POSTs, same run):')
    for (const row of rows.filter((row) => row.label.includes('burst'))) {
      console.log(`  ${row.label}: throughput ${(row.perSecond / floor[0].perSecond).toFixed(2)}x (target >= 0.7x)`)
    }
    for (const row of rows.filter((row) => row.label.includes('single events'))) {
      console.log(`  ${row.label}: commit-to-delivery p50 ${row.p50.toFixed(1)} ms (target <= 50 ms; a bare POST takes ${floor[1].p50.toFixed(1)} ms)`)
    }
  } finally {
    await receiver.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
