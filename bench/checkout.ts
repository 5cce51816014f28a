// Checkout throughput: complete checkouts per second through the service, side by side with the
// floor: a script making the same Open Payments calls directly with the SDK. The sandbox wallet
// runs in another process (bench/support/sandbox-process.ts); the service and both drivers run
// here. Loopback only, bounded in count and time; not a test.
//
//   npx tsx bench/checkout.ts [checkouts=200] [concurrency=8]     both databases, one after the other
//   BENCH_DATABASE=sqlite|postgresql npx tsx bench/checkout.ts ...  one of them
//   BENCH_CPU_PROF=<dir> ...   a V8 CPU profile of this process during each measured service run
//                              (settlement included; the service, its HTTP clients and the driver)
//
// PostgreSQL: a database created for the run on BENCH_POSTGRES_URL (default
// postgresql://postgres@127.0.0.1:5432/postgres, trust auth) and dropped after it.
//
// One checkout = start -> the buyer approves (sandbox admin API, the same call for both sides) ->
// finish (grant continued, outgoing payment created). Settlement is checked once at the end (all
// the money arrived), not timed per checkout: the service's worker polls on its own schedule.
//
// The floor makes what the service makes per checkout once its caches are warm: incoming payment,
// quote, interactive grant; then continue, buyer wallet address, outgoing payment. Like the
// service, it reads both wallet addresses and takes the incoming-payment and quote grants once.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { Session } from 'node:inspector/promises'
import Database from 'better-sqlite3'
import pg from 'pg'
import { createAuthenticatedClient, isFinalizedGrantWithAccessToken, isPendingGrant } from '@interledger/open-payments'
import { parseConfig } from '../src/config.js'
import { migrateDatabase } from '../src/db.js'
import { sqlitePath } from '../src/db/provider.js'
import { createLogger } from '../src/logger.js'
import { sdkLogger } from '../src/open-payments/sdk-logger.js'
import { createSandboxIdentity } from '../src/sandbox/identities.js'
import { startService } from '../src/service.js'
import { startChild } from './support/child.js'
import { printTable, summarizeLatencies } from './support/stats.js'
import { benchAuth, benchServiceEnv, startWebhookReceiver } from './support/service-env.js'

const CHECKOUTS = Math.min(Math.max(Number(process.argv[2] ?? 200), 10), 1000)
const CONCURRENCY = Math.min(Math.max(Number(process.argv[3] ?? 8), 1), 32)
const WARMUP = 16
const AMOUNT = 100n
const TIME_LIMIT_MS = 150_000
const SELLER_ID = 'bench-seller'

interface Timing {
  startMs: number
  finishMs: number
}

interface Side {
  label: string
  /** Starts a checkout; resolves with the wallet's interaction URL and what finish needs. */
  checkout(i: number): Promise<Timing>
}

interface RunResult {
  label: string
  checkouts: number
  seconds: number
  timings: Timing[]
  /** CPU time of this process (service + drivers; the sandbox is elsewhere). */
  cpuMs: number
  sqlStatements: number
  /** From the last finish until the service was quiescent (settled, webhooks delivered). */
  settleSeconds: number
}

const PROVIDERS = ['sqlite', 'postgresql'] as const
type Provider = (typeof PROVIDERS)[number]
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

// Counts SQL statements the service runs (BENCH_SQL_LOG=1 also prints them, per checkout, with
// the time SQLite spent executing each, in milliseconds per checkout).
// SQLite: every execution of a better-sqlite3 statement (Prisma's adapter prepares each statement
// it runs; the service's prepared reads and writes reuse theirs), BEGIN and COMMIT included.
// PostgreSQL: every query() of a pg client (the pool Prisma and the service's prepared statements
// share, BEGIN and COMMIT included), except the benchmark's own watcher.
let sqlStatements = 0
const sqlLog = new Map<string, { count: number; ms: number }>()
function countStatement(sql: unknown, ms = 0) {
  sqlStatements++
  if (!process.env.BENCH_SQL_LOG) return
  const text = String(typeof sql === 'object' && sql !== null && 'text' in sql ? sql.text : sql).slice(0, 160)
  const entry = sqlLog.get(text) ?? { count: 0, ms: 0 }
  entry.count++
  entry.ms += ms
  sqlLog.set(text, entry)
}
const uncounted = new WeakSet<object>()
const statementPrototype = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Database.Statement
for (const method of ['run', 'get', 'all', 'iterate'] as const) {
  const execute = statementPrototype[method] as (...args: unknown[]) => unknown
  Object.defineProperty(statementPrototype, method, {
    value: function (this: Database.Statement, ...args: unknown[]) {
      if (uncounted.has(this)) return execute.apply(this, args)
      if (!process.env.BENCH_SQL_LOG) {
        countStatement(this.source)
        return execute.apply(this, args)
      }
      const began = performance.now()
      try {
        return execute.apply(this, args)
      } finally {
        countStatement(this.source, performance.now() - began)
      }
    },
  })
}
const query = pg.Client.prototype.query
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (!uncounted.has(this)) countStatement(args[0])
  return (query as (...a: unknown[]) => unknown).apply(this, args)
} as typeof query

/** A database for one run: its URL, a function counting what the service has not settled yet, and its removal. */
interface BenchDatabase {
  url: string
  /** Payments not COMPLETED plus webhook events not DELIVERED, read apart from the service. */
  unsettled(): Promise<number>
  drop(): Promise<void>
}

async function createBenchDatabase(provider: Provider, dir: string): Promise<BenchDatabase> {
  const unsettledSql = (q: string) =>
    `SELECT (SELECT COUNT(*) FROM ${q}Payment${q} WHERE state <> 'COMPLETED') + (SELECT COUNT(*) FROM ${q}WebhookEvent${q} WHERE status <> 'DELIVERED') AS n`
  if (provider === 'sqlite') {
    const url = `file:${path.join(dir, 'payments.db')}`
    await migrateDatabase(url)
    // Its own connection, its statement not counted against the service.
    const watcher = new Database(sqlitePath(url), { readonly: true })
    const statement = watcher.prepare(unsettledSql(''))
    uncounted.add(statement)
    return { url, unsettled: async () => (statement.get() as { n: number }).n, drop: async () => void watcher.close() }
  }
  const server = new URL(POSTGRES_URL)
  const name = `bench_checkout_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  uncounted.add(admin)
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(server)
  url.pathname = `/${name}`
  await migrateDatabase(url.href)
  const watcher = new pg.Client({ connectionString: url.href })
  uncounted.add(watcher)
  await watcher.connect()
  return {
    url: url.href,
    unsettled: async () => Number((await watcher.query(unsettledSql('"'))).rows[0].n),
    async drop() {
      await watcher.end()
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    },
  }
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await res.text()
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}

/** The buyer approves in the wallet: the sandbox's admin API, since the sandbox is another process. */
async function approve(origin: string, redirectUrl: string): Promise<URL> {
  const [, interact, id] = new URL(redirectUrl).pathname.split('/')
  if (interact !== 'interact' || !id) throw new Error(`unexpected interaction URL ${redirectUrl}`)
  const { finishUrl } = await postJson(`${origin}/sandbox/interactions/${id}/approve`, {})
  return new URL(finishUrl)
}

/**
 * Runs `count` checkouts at CONCURRENCY. Throughput counts only the checkouts themselves; CPU and
 * SQL are counted until `settle` resolves too, so the service is charged for the settlement checks
 * and webhook deliveries each checkout causes.
 */
async function runSide(side: Side, count: number, firstIndex: number, settle?: () => Promise<void>, profileAs?: string): Promise<RunResult> {
  const profiler = profileAs && process.env.BENCH_CPU_PROF ? new Session() : undefined
  if (profiler) {
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.start')
  }
  const timings: Timing[] = []
  let next = 0
  const cpuBefore = process.cpuUsage()
  const sqlBefore = sqlStatements
  const began = performance.now()
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) {
        const i = firstIndex + next++
        timings.push(await side.checkout(i))
      }
    }),
  )
  const seconds = (performance.now() - began) / 1000
  await settle?.()
  const settleSeconds = (performance.now() - began) / 1000 - seconds
  const cpu = process.cpuUsage(cpuBefore)
  const cpuMs = (cpu.user + cpu.system) / 1000
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop')
    fs.mkdirSync(process.env.BENCH_CPU_PROF!, { recursive: true })
    fs.writeFileSync(path.join(process.env.BENCH_CPU_PROF!, `checkout-${profileAs}-${process.pid}.cpuprofile`), JSON.stringify(profile))
    profiler.disconnect()
  }
  return { label: side.label, checkouts: count, seconds, timings, cpuMs, sqlStatements: sqlStatements - sqlBefore, settleSeconds }
}


async function main() {
  const provider = process.env.BENCH_DATABASE
  if (provider === undefined) return runEachProvider()
  if (!PROVIDERS.includes(provider as Provider)) throw new Error(`BENCH_DATABASE must be one of ${PROVIDERS.join(', ')}`)
  return benchmark(provider as Provider)
}

/** Both databases, each in a fresh process (no warm caches carried over), one after the other. */
async function runEachProvider() {
  for (const provider of PROVIDERS) {
    console.log(`--- ${provider} ---`)
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
        env: { ...process.env, BENCH_DATABASE: provider },
        stdio: 'inherit',
      })
      child.on('exit', resolve)
    })
    if (code !== 0) throw new Error(`the ${provider} run failed (exit ${code})`)
  }
}

async function benchmark(provider: Provider) {
  const loadBefore = os.loadavg()[0] // other work on the machine skews absolute numbers; ratios less
  const guard = setTimeout(() => {
    console.error(`checkout benchmark did not finish within ${TIME_LIMIT_MS / 1000} s`)
    process.exit(1)
  }, TIME_LIMIT_MS)
  guard.unref()

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-checkout-'))
  const keysDir = path.join(dir, 'keys')
  const sandbox = await startChild<{ origin: string; options: Record<string, number> }>(
    path.join(import.meta.dirname, 'support/sandbox-process.ts'),
  )
  const receiver = await startWebhookReceiver()
  let service: Awaited<ReturnType<typeof startService>> | undefined
  let database: BenchDatabase | undefined
  try {
    const { origin } = sandbox.ready
    const sellerUrl = `${origin}/seller`
    const buyerUrl = `${origin}/buyer`
    const identity = createSandboxIdentity({ dir: keysDir, walletName: 'seller' })
    await postJson(`${origin}/sandbox/wallets/seller/keys`, { jwk: identity.jwk })

    database = await createBenchDatabase(provider, dir)
    const databaseUrl = database.url
    const logger = createLogger('silent')
    const cfg = parseConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        ...benchServiceEnv({ databaseUrl, keysDir, webhookReceiverUrl: receiver.url }),
    })
    service = await startService(cfg, { logger })
    const serviceUrl = service.url
    const auth = benchAuth
    await postJson(
      `${serviceUrl}/sellers`,
      { id: SELLER_ID, walletAddressUrl: sellerUrl, keyId: identity.keyId, privateKeyPath: identity.privateKeyPath },
      auth,
    )

    const serviceSide: Side = {
      label: 'service (REST)',
      async checkout(i) {
        const t0 = performance.now()
        const started = await postJson(
          `${serviceUrl}/offers/bench-offer-${i}/quotes/start`,
          { sellerId: SELLER_ID, buyerWalletAddressUrl: buyerUrl, amount: AMOUNT.toString() },
          auth,
        )
        const t1 = performance.now()
        const finishUrl = await approve(origin, started.redirectUrl)
        // The wallet redirects the browser to BASE_URL; send it to where the service listens.
        const t2 = performance.now()
        const res = await fetch(`${serviceUrl}${finishUrl.pathname}${finishUrl.search}`, { headers: { accept: 'application/json' } })
        const finished = await res.json()
        const t3 = performance.now()
        if (res.status !== 200 || !finished.ok || finished.state !== 'PROCESSING') {
          throw new Error(`service finish answered ${res.status}: ${JSON.stringify(finished)}`)
        }
        return { startMs: t1 - t0, finishMs: t3 - t2 }
      },
    }

    const client = await createAuthenticatedClient({
      walletAddressUrl: sellerUrl,
      keyId: identity.keyId,
      privateKey: identity.privateKeyPath,
      useHttp: true,
      validateResponses: true,
      requestTimeoutMs: 5000,
      logger: sdkLogger(logger),
    })
    const [sellerWallet, buyerWallet] = await Promise.all([client.walletAddress.get({ url: sellerUrl }), client.walletAddress.get({ url: buyerUrl })])
    const incomingGrant = await client.grant.request(
      { url: sellerWallet.authServer },
      { access_token: { access: [{ type: 'incoming-payment', actions: ['create', 'read', 'complete'] }] } },
    )
    const quoteGrant = await client.grant.request({ url: buyerWallet.authServer }, { access_token: { access: [{ type: 'quote', actions: ['create', 'read'] }] } })
    if (!isFinalizedGrantWithAccessToken(incomingGrant) || !isFinalizedGrantWithAccessToken(quoteGrant)) throw new Error('non-interactive grants were not granted')

    const floorSide: Side = {
      label: 'SDK direct (floor)',
      async checkout(i) {
        const t0 = performance.now()
        const incoming = await client.incomingPayment.create(
          { url: sellerWallet.resourceServer, accessToken: incomingGrant.access_token.value },
          {
            walletAddress: sellerWallet.id,
            incomingAmount: { value: AMOUNT.toString(), assetCode: sellerWallet.assetCode, assetScale: sellerWallet.assetScale },
            expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
            metadata: { offerId: `floor-offer-${i}` },
          },
        )
        const quote = await client.quote.create(
          { url: buyerWallet.resourceServer, accessToken: quoteGrant.access_token.value },
          { walletAddress: buyerWallet.id, receiver: incoming.id, method: 'ilp' },
        )
        const clientNonce = crypto.randomBytes(32).toString('hex')
        const grant = await client.grant.request(
          { url: buyerWallet.authServer },
          {
            access_token: {
              access: [
                {
                  type: 'outgoing-payment',
                  actions: ['create', 'read', 'list'],
                  identifier: buyerWallet.id,
                  limits: { debitAmount: quote.debitAmount, receiver: incoming.id },
                },
              ],
            },
            interact: { start: ['redirect'], finish: { method: 'redirect', uri: `http://127.0.0.1:9/finish?n=${i}`, nonce: clientNonce } },
          },
        )
        if (!isPendingGrant(grant)) throw new Error('the outgoing-payment grant did not ask for interaction')
        const t1 = performance.now()
        const finishUrl = await approve(origin, grant.interact.redirect)
        const t2 = performance.now()
        // A correct client checks the finish hash too (cheap; the service does the same).
        const interactRef = finishUrl.searchParams.get('interact_ref')!
        const expected = crypto
          .createHash('sha256')
          .update([clientNonce, grant.interact.finish, interactRef, buyerWallet.authServer].join('\n'))
          .digest('base64')
        if (finishUrl.searchParams.get('hash') !== expected) throw new Error('finish hash mismatch')
        const continued = await client.grant.continue({ url: grant.continue.uri, accessToken: grant.continue.access_token.value }, { interact_ref: interactRef })
        if (!isFinalizedGrantWithAccessToken(continued)) throw new Error('the continued grant has no access token')
        const buyer = await client.walletAddress.get({ url: buyerUrl })
        await client.outgoingPayment.create(
          { url: buyer.resourceServer, accessToken: continued.access_token.value },
          { walletAddress: buyer.id, quoteId: quote.id, metadata: { offerId: `floor-offer-${i}` } },
        )
        const t3 = performance.now()
        return { startMs: t1 - t0, finishMs: t3 - t2 }
      },
    }

    // Quiescent: every service payment COMPLETED and every webhook delivered, so that the floor
    // never shares this process with the service's background work. Polled on a connection of
    // its own (not counted against the service).
    const settleService = async () => {
      const deadline = performance.now() + 30_000
      while ((await database!.unsettled()) > 0) {
        if (performance.now() > deadline) throw new Error('the service did not settle its payments and webhooks within 30 s')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }

    // Warm both (JIT, connection pools, the service's grant-token and wallet caches), then run
    // each side twice, alternating, so that drift (the sandbox's in-memory state grows) hits both.
    await runSide(serviceSide, WARMUP, 0, settleService)
    await runSide(floorSide, WARMUP, 0)
    const half = Math.ceil(CHECKOUTS / 2)
    const runs: RunResult[] = []
    for (const round of [0, 1]) {
      runs.push(await runSide(floorSide, half, WARMUP + round * half))
      runs.push(await runSide(serviceSide, half, WARMUP + round * half, settleService, `${provider}-service-${round}`))
    }
    const merge = (label: string): RunResult => {
      const mine = runs.filter((r) => r.label === label)
      const sum = (key: 'checkouts' | 'seconds' | 'cpuMs' | 'sqlStatements' | 'settleSeconds') => mine.reduce((total, r) => total + r[key], 0)
      return {
        label,
        checkouts: sum('checkouts'),
        seconds: sum('seconds'),
        cpuMs: sum('cpuMs'),
        sqlStatements: sum('sqlStatements'),
        settleSeconds: sum('settleSeconds'),
        timings: mine.flatMap((r) => r.timings),
      }
    }
    const serviceRun = merge(serviceSide.label)
    const floorRun = merge(floorSide.label)

    // The money moved: the seller wallet received every checkout of both sides.
    const serviceTotal = WARMUP + 2 * half
    const balance = await (await fetch(`${origin}/sandbox/wallets/seller/balance`)).json()
    const expectedBalance = AMOUNT * BigInt(2 * serviceTotal)
    if (BigInt(balance.balance) !== expectedBalance) throw new Error(`seller balance ${balance.balance}, expected ${expectedBalance}`)

    const row = (r: RunResult) => {
      const start = summarizeLatencies(r.timings.map((t) => t.startMs))
      const finish = summarizeLatencies(r.timings.map((t) => t.finishMs))
      return { perSecond: r.checkouts / r.seconds, start, finish, cpuMs: r.cpuMs / r.checkouts, sql: r.sqlStatements / r.checkouts }
    }
    const s = row(serviceRun)
    const f = row(floorRun)
    console.log(
      `checkout on ${provider}: ${serviceRun.checkouts} checkouts per side (after ${WARMUP} warm-up), concurrency ${CONCURRENCY}, ` +
        `sandbox in another process (${JSON.stringify(sandbox.ready.options)}), ${os.cpus().length} CPUs, load average before ${loadBefore.toFixed(1)}, Node ${process.version}`,
    )
    printTable(
      ['', 'checkouts/s', 'start p50 ms', 'start p99 ms', 'finish p50 ms', 'finish p99 ms', 'CPU ms/checkout', 'SQL/checkout'],
      [
        [serviceRun.label, s.perSecond, s.start.p50, s.start.p99, s.finish.p50, s.finish.p99, s.cpuMs, s.sql],
        [floorRun.label, f.perSecond, f.start.p50, f.start.p99, f.finish.p50, f.finish.p99, f.cpuMs, f.sql],
      ],
    )
    if (process.env.BENCH_SQL_LOG) {
      const checkouts = WARMUP + 2 * half
      for (const [sql, { count, ms }] of [...sqlLog].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${(count / checkouts).toFixed(2)}  ${(ms / checkouts).toFixed(3)} ms  ${sql}`)
    }
    console.log(`ratio service/floor: throughput ${(s.perSecond / f.perSecond).toFixed(2)}x`)
    console.log(
      `service added latency (difference of medians): start +${(s.start.p50 - f.start.p50).toFixed(1)} ms, ` +
        `finish +${(s.finish.p50 - f.finish.p50).toFixed(1)} ms`,
    )
    console.log(
      `settlement (not in checkouts/s; in CPU and SQL): the service was quiescent (all payments COMPLETED, all webhooks delivered) ` +
        `${(serviceRun.settleSeconds / 2).toFixed(1)} s after its last finish on average (its worker polls every ${cfg.settlement.pollIntervalMs / 1000} s); ` +
        `the seller wallet received ${balance.balance} = ${2 * serviceTotal} checkouts x ${AMOUNT} (both sides)`,
    )
  } finally {
    await service?.close()
    await database?.drop()
    await receiver.close()
    await sandbox.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
