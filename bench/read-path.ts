// Read path, on SQLite and on PostgreSQL: `GET /payments/:pendingId/status` and the GraphQL
// `payment(pendingId)` query against 100,000 stored payments, side by side with the floor: a bare
// node:http server with the driver (better-sqlite3, or a `pg` pool) answering the same JSON
// (bench/support/read-path-server.ts). Then list pages, `GET /payments/pending?limit=100` and
// GraphQL `payments(first: 100)` at random cursors, at 1k, 100k and 1M payments: their latency
// must stay flat. Each server runs in its own process and autocannon drives it from this one; the
// point reads also print each server's CPU per request (from /proc), which a drifting machine
// moves less than its requests per second.
// Loopback only, bounded in time; not a test.
//
//   npx tsx bench/read-path.ts [seconds per measurement=5] [connections=10] [sqlite|postgresql|both]
//   (READ_PATH_DATABASE picks the database too; both by default; PostgreSQL at DEV_POSTGRES_URL,
//   default postgresql://postgres@127.0.0.1:5432/postgres, a database of its own per run)
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon, { type Result } from 'autocannon'
import pg from 'pg'
import { parseConfig } from '../src/config.js'
import { migrateDatabase, type DatabaseProvider } from '../src/db.js'
import { findStartedPayment } from '../src/payments/queries.js'
import { startChild, type ChildServer } from './support/child.js'
import { fillPayments, paymentId } from './support/payment-fill.js'
import { cpuSecondsOf } from './support/process-usage.js'
import { openServiceDeps } from './support/service-deps.js'
import { printTable } from './support/stats.js'

const SECONDS = Math.min(Math.max(Number(process.argv[2] ?? 5), 2), 15)
const CONNECTIONS = Math.min(Math.max(Number(process.argv[3] ?? 10), 1), 64)
const WHICH = process.argv[4] ?? process.env.READ_PATH_DATABASE ?? 'both'
const PROVIDERS: DatabaseProvider[] = WHICH === 'both' ? ['sqlite', 'postgresql'] : [WHICH as DatabaseProvider]
const WARMUP_SECONDS = 2
const LIST_SECONDS = 3
// READ_PATH_SIZES=1000,100000 leaves the million out (on a loaded machine its fill alone takes minutes).
const SIZES = (process.env.READ_PATH_SIZES ?? '1000,100000,1000000').split(',').map(Number)
const POINT_READS_AT = 100_000
if (!SIZES.includes(POINT_READS_AT)) throw new Error(`READ_PATH_SIZES must include ${POINT_READS_AT}`)
const TIME_LIMIT_MS = 240_000 // per database; about 90 s on a quiet 2-core machine
const API_TOKEN = 'bench-token-0123456789abcdef'
const DEV_POSTGRES_URL = process.env.DEV_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

const PAYMENT_QUERY = `query Payment($pendingId: String!) {
  payment(pendingId: $pendingId) { pendingId offerId status buyerWalletAddressUrl incomingPaymentId outgoingPaymentId quote { id } }
}`
const PAYMENTS_PAGE_QUERY = `query Payments($after: String) {
  payments(first: 100, after: $after) { edges { node { pendingId offerId status buyerWalletAddressUrl incomingPaymentId outgoingPaymentId } } pageInfo { hasNextPage endCursor } }
}`

const progress = (message: string) => process.stderr.write(`[read-path ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const randomBelow = (n: number) => 1 + Math.floor(Math.random() * n)

type Endpoint = 'REST status' | 'GraphQL payment' | 'REST list page' | 'GraphQL list page'
interface Target {
  label: string
  url: string
  endpoint: Endpoint
  /** The server's process, whose CPU per request is measured. */
  pid?: number
}

/** A Pothos cursor for the payment with this id (base64 of `GPC:` and the id's chunk), made from one the service answered. */
let cursorTemplate: { decoded: string; id: string } | undefined
const cursorOf = (id: string) => Buffer.from(cursorTemplate!.decoded.replace(cursorTemplate!.id, id)).toString('base64')

function requestFor(endpoint: Endpoint, size: number): { method: string; path: string; body?: string } {
  const id = paymentId(randomBelow(size))
  switch (endpoint) {
    case 'REST status':
      return { method: 'GET', path: `/payments/${id}/status` }
    case 'GraphQL payment':
      return { method: 'POST', path: '/graphql', body: JSON.stringify({ query: PAYMENT_QUERY, variables: { pendingId: id } }) }
    case 'REST list page':
      return { method: 'GET', path: `/payments/pending?limit=100&cursor=${id}` }
    case 'GraphQL list page':
      return { method: 'POST', path: '/graphql', body: JSON.stringify({ query: PAYMENTS_PAGE_QUERY, variables: { after: cursorOf(id) } }) }
  }
}

const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }

async function fetchText(url: string, request: { method: string; path: string; body?: string }): Promise<string> {
  const res = await fetch(url + request.path, { method: request.method, headers, body: request.body })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${request.method} ${request.path} answered ${res.status}: ${text}`)
  return text
}

async function drive(target: Target, size: number, seconds: number): Promise<Result> {
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
    requests: [{ setupRequest: (req) => ({ ...req, ...requestFor(target.endpoint, size) }) }],
  })
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${target.label} ${target.endpoint}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`)
  }
  return result
}

async function createDatabase(provider: DatabaseProvider, dir: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (provider === 'sqlite') return { url: `file:${path.join(dir, 'payments.db')}`, drop: async () => {} }
  const name = `bench_read_path_${crypto.randomBytes(4).toString('hex')}`
  const onServer = async (sql: string) => {
    const client = new pg.Client({ connectionString: DEV_POSTGRES_URL })
    await client.connect()
    await client.query(sql).finally(() => client.end())
  }
  await onServer(`CREATE DATABASE "${name}"`)
  const url = new URL(DEV_POSTGRES_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) }
}

async function benchmark(provider: DatabaseProvider) {
  const began = performance.now()
  const loadBefore = os.loadavg()[0] // other work on the machine skews absolute numbers; ratios less
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-read-path-'))
  const database = await createDatabase(provider, dir)
  const children: ChildServer<{ url: string }>[] = []
  try {
    await migrateDatabase(database.url)
    const fills: string[] = []
    let filled = 0
    const growTo = async (size: number) => {
      progress(`${provider}: filling to ${size.toLocaleString('en')} payments`)
      const start = performance.now()
      await fillPayments(database.url, filled + 1, size)
      fills.push(`${(size - filled).toLocaleString('en')} in ${((performance.now() - start) / 1000).toFixed(1)} s`)
      filled = size
    }
    await growTo(SIZES[0])

    const serverFile = path.join(import.meta.dirname, 'support/read-path-server.ts')
    const env = {
      DATABASE_URL: database.url,
      API_TOKENS: API_TOKEN,
      KEYS_DIR: dir,
      LOG_LEVEL: 'silent',
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    }
    const service = await startChild<{ url: string }>(serverFile, { ...env, READ_PATH_SERVER: 'service' })
    children.push(service)
    const bare = await startChild<{ url: string }>(serverFile, { ...env, READ_PATH_SERVER: 'bare' })
    children.push(bare)
    const firstPage = JSON.parse(await fetchText(service.ready.url, { method: 'POST', path: '/graphql', body: JSON.stringify({ query: PAYMENTS_PAGE_QUERY }) }))
    const endCursor: string = firstPage.data.payments.pageInfo.endCursor
    cursorTemplate = { decoded: Buffer.from(endCursor, 'base64').toString(), id: paymentId(100) }
    if (!cursorTemplate.decoded.includes(cursorTemplate.id)) throw new Error(`unexpected cursor ${cursorTemplate.decoded}`)

    const pointRows: Array<Array<string | number>> = []
    const ratios: string[] = []
    const listRows: Array<Array<string | number>> = []
    let example = ''
    for (const size of SIZES) {
      if (size > filled) await growTo(size)
      progress(`${provider}: measuring at ${size.toLocaleString('en')} payments`)
      if (size === POINT_READS_AT) {
        const pairs: Array<[Target, Target]> = (['REST status', 'GraphQL payment'] as const).map((endpoint) => [
          { label: 'service', url: service.ready.url, endpoint, pid: service.process.pid },
          { label: `bare node:http + ${provider === 'sqlite' ? 'better-sqlite3' : 'pg'}`, url: bare.ready.url, endpoint, pid: bare.process.pid },
        ])
        // Both must answer byte-identical bodies, or the comparison means nothing.
        for (const [serviceTarget, bareTarget] of pairs) {
          for (let i = 0; i < 24; i++) {
            const request = requestFor(serviceTarget.endpoint, size)
            const [a, b] = await Promise.all([fetchText(serviceTarget.url, request), fetchText(bareTarget.url, request)])
            if (a !== b) throw new Error(`${serviceTarget.endpoint} bodies differ for ${request.path}:\n  service: ${a}\n  bare:    ${b}`)
            example ||= a
          }
        }
        for (const [serviceTarget, bareTarget] of pairs) {
          const measured: Array<{ result: Result; cpuPerRequest: number }> = []
          for (const target of [serviceTarget, bareTarget]) {
            await drive(target, size, WARMUP_SECONDS)
            const cpuBefore = cpuSecondsOf(target.pid!)
            const result = await drive(target, size, SECONDS)
            // The server's own CPU per request: steadier than req/s when the machine's speed drifts.
            const cpuPerRequest = ((cpuSecondsOf(target.pid!) - cpuBefore) * 1e6) / result.requests.total
            measured.push({ result, cpuPerRequest })
            pointRows.push([`${target.endpoint}: ${target.label}`, result.requests.average, result.latency.p50, result.latency.p99, result.requests.total, cpuPerRequest])
          }
          const [{ result: s, cpuPerRequest: sCpu }, { result: b, cpuPerRequest: bCpu }] = measured
          ratios.push(
            `${serviceTarget.endpoint}: service/bare req/s ${(s.requests.average / b.requests.average).toFixed(2)}x ` +
              `(bare is ${(b.requests.average / s.requests.average).toFixed(1)}x faster), ` +
              `p50 ${s.latency.p50} vs ${b.latency.p50} ms, p99 ${s.latency.p99} vs ${b.latency.p99} ms, ` +
              `server CPU per request ${sCpu.toFixed(0)} vs ${bCpu.toFixed(0)} µs`,
          )
        }
      }
      for (const endpoint of ['REST list page', 'GraphQL list page'] as const) {
        const target = { label: 'service', url: service.ready.url, endpoint }
        await drive(target, size, 1)
        const result = await drive(target, size, LIST_SECONDS)
        listRows.push([`${endpoint} at ${size.toLocaleString('en')}`, result.requests.average, result.latency.p50, result.latency.p99, result.requests.total])
      }
    }

    // Where the time of one read goes: Prisma's findUnique (compiled per call) against the prepared
    // statement the service now uses, sequentially in this process while the servers are idle.
    const lookups = Array.from({ length: 1000 }, () => paymentId(randomBelow(POINT_READS_AT)))
    const perCall = async (lookup: (id: string) => Promise<unknown>) => {
      for (const id of lookups.slice(0, 100)) await lookup(id)
      const start = performance.now()
      for (const id of lookups) await lookup(id)
      return (performance.now() - start) / lookups.length
    }
    const deps = await openServiceDeps(parseConfig(env)) // the service's Deps on the same database, in this process
    const prismaMs = await perCall((id) => deps.db.prisma.payment.findUnique({ where: { id } }))
    const preparedMs = await perCall((id) => findStartedPayment(deps, id))
    await deps.db.close()

    console.log(
      `\n${provider}: read path, payments filled ${fills.join(', ')}; random existing ids; autocannon ${CONNECTIONS} connections, ` +
        `${SECONDS} s per point measurement after ${WARMUP_SECONDS} s warm-up, ${LIST_SECONDS} s per list measurement; each server in its own process; ` +
        `${os.cpus().length} CPUs, load average before ${loadBefore.toFixed(1)}, Node ${process.version}`,
    )
    console.log(`identical bodies checked on 24 ids per endpoint, e.g. ${example}`)
    printTable(['', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'server CPU µs/req'], pointRows)
    for (const line of ratios) console.log(line)
    printTable(['list pages (100 rows, random cursor), service', 'req/s', 'p50 ms', 'p99 ms', 'requests'], listRows)
    console.log(`one whole payment by id, sequential, in-process, per call: Prisma findUnique ${prismaMs.toFixed(3)} ms, prepared statement (findStartedPayment) ${preparedMs.toFixed(3)} ms`)
    console.log(`${provider}: done in ${((performance.now() - began) / 1000).toFixed(0)} s`)
  } finally {
    for (const child of children) await child.stop()
    await database.drop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function main() {
  for (const provider of PROVIDERS) {
    const guard = setTimeout(() => {
      console.error(`read-path benchmark on ${provider} did not finish within ${TIME_LIMIT_MS / 1000} s`)
      process.exit(1)
    }, TIME_LIMIT_MS)
    guard.unref()
    await benchmark(provider)
    clearTimeout(guard)
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
