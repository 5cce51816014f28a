// Memory of the service process: RSS idle after start, peak under 100 concurrent checkouts, and
// idle again after each round, for a few hundred checkouts; and the service's CPU time per round,
// which the memory settings trade against. Not a test.
//
//   npx tsx bench/memory.ts [rounds=2] [concurrency=100] [sellers=10]
//   BENCH_DATABASE=postgresql npx tsx bench/memory.ts     (default sqlite)
//   BENCH_ENTRY=dist npx tsx bench/memory.ts   (node dist/main.js without npm start's node flags; npm run build first)
//   BENCH_ENTRY=tsx npx tsx bench/memory.ts    (node --import tsx src/main.ts, as npm start ran before it compiled to dist/)
//   BENCH_NODE_ARGS='--max-old-space-size=128' BENCH_ENTRY=dist npx tsx bench/memory.ts   (node flags of the service only)
//
// By default the service runs as `npm start` runs it: node with the flags package.json's start
// script gives, on scripts/start.mjs (which compiles src/ to dist/ when it changed, then runs
// dist/main.js), in its own process, with SANDBOX=off; the sandbox wallet runs in another process
// (bench/support/sandbox-process.ts), so only the service's memory is measured. RSS comes from
// /proc/<pid>/status (VmRSS now, VmHWM the peak), CPU from /proc/<pid>/stat. Checkouts spread over
// `sellers` sellers (one Open Payments client each) and as many buyer wallets as the concurrency,
// so that per-seller and per-buyer caches show.
// Target (issue 11): peak <= 200 MB at 100 concurrent checkouts, and back near idle after.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { migrateDatabase } from '../src/db.js'
import { createSandboxIdentity } from '../src/sandbox/identities.js'
import { startChild } from './support/child.js'
import { cpuSecondsOf, rssOf } from './support/process-usage.js'
import { printTable } from './support/stats.js'
import { benchAuth, benchServiceEnv, freePort, npmStartNodeArgs } from './support/service-env.js'

const ROUNDS = Math.min(Math.max(Number(process.argv[2] ?? 2), 1), 10)
const CONCURRENCY = Math.min(Math.max(Number(process.argv[3] ?? 100), 1), 200)
const SELLERS = Math.min(Math.max(Number(process.argv[4] ?? 10), 1), 50)
const SETTLE_MS = 5_000
const TIME_LIMIT_MS = 150_000
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const provider = process.env.BENCH_DATABASE ?? 'sqlite'
const ENTRY = process.env.BENCH_ENTRY ?? 'start'
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
const SERVICE_ARGS = [...NODE_ARGS, ...entryArgs(ENTRY)]

/** The node arguments of each way to run the service. */
function entryArgs(entry: string): string[] {
  if (entry === 'start') return npmStartNodeArgs()
  if (entry === 'dist') return ['dist/main.js']
  if (entry === 'tsx') return ['--import', 'tsx', 'src/main.ts']
  throw new Error('BENCH_ENTRY must be start, dist or tsx')
}

const MB = 1024 * 1024


async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await res.text()
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let sandbox: Awaited<ReturnType<typeof startChild<{ origin: string }>>> | undefined

async function main() {
  const loadBefore = os.loadavg()[0]
  let service: ReturnType<typeof spawn> | undefined
  const guard = setTimeout(() => {
    console.error(`memory benchmark did not finish within ${TIME_LIMIT_MS / 1000} s`)
    service?.kill('SIGKILL')
    sandbox?.process.kill('SIGKILL')
    process.exit(1)
  }, TIME_LIMIT_MS)
  guard.unref()

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-memory-'))
  const keysDir = path.join(dir, 'keys')
  sandbox = await startChild<{ origin: string }>(path.join(import.meta.dirname, 'support/sandbox-process.ts'))
  // Webhooks go to a receiver that answers 204, so the dispatcher does its real work.
  const receiver = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()))
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  let admin: pg.Client | undefined
  let databaseName: string | undefined
  try {
    const { origin } = sandbox!.ready
    let databaseUrl = `file:${path.join(dir, 'payments.db')}`
    if (provider === 'postgresql') {
      admin = new pg.Client({ connectionString: POSTGRES_URL })
      await admin.connect()
      databaseName = `bench_memory_${process.pid}_${Date.now()}`
      await admin.query(`CREATE DATABASE ${databaseName}`)
      const url = new URL(POSTGRES_URL)
      url.pathname = `/${databaseName}`
      databaseUrl = url.href
    } else if (provider !== 'sqlite') throw new Error('BENCH_DATABASE must be sqlite or postgresql')
    await migrateDatabase(databaseUrl)

    const sellers: Array<{ id: string; walletAddressUrl: string; keyId: string; privateKeyPath: string }> = []
    for (let i = 0; i < SELLERS; i++) {
      const name = `seller-${i}`
      await postJson(`${origin}/sandbox/wallets`, { name })
      const identity = createSandboxIdentity({ dir: keysDir, walletName: name })
      await postJson(`${origin}/sandbox/wallets/${name}/keys`, { jwk: identity.jwk })
      sellers.push({ id: name, walletAddressUrl: `${origin}/${name}`, keyId: identity.keyId, privateKeyPath: identity.privateKeyPath })
    }
    const buyers: string[] = []
    for (let i = 0; i < CONCURRENCY; i++) {
      await postJson(`${origin}/sandbox/wallets`, { name: `buyer-${i}`, balance: (10n ** 12n).toString() })
      buyers.push(`${origin}/buyer-${i}`)
    }

    const port = await freePort()
    const serviceUrl = `http://127.0.0.1:${port}`
    if (ENTRY === 'dist' && !fs.existsSync(path.join(import.meta.dirname, '../dist/main.js'))) throw new Error('BENCH_ENTRY=dist: run `npm run build` first')
    service = spawn(process.execPath, SERVICE_ARGS, {
      cwd: path.join(import.meta.dirname, '..'), // as `npm start`; the key paths are absolute, inside KEYS_DIR
      env: {
        ...process.env,
        NODE_ENV: 'development',
        PORT: String(port),
        HOST: '127.0.0.1',
        ...benchServiceEnv({ databaseUrl, keysDir, webhookReceiverUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}` }),
        OPEN_PAYMENTS_TIMEOUT_MS: '30000', // 100 checkouts at once queue at the sandbox
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    const pid = service.pid!
    const startedAt = performance.now()
    for (;;) {
      if (service.exitCode !== null) throw new Error(`the service exited with code ${service.exitCode}`)
      if (await fetch(`${serviceUrl}/health`).then((r) => r.ok, () => false)) break
      if (performance.now() - startedAt > 30_000) throw new Error('the service did not answer /health within 30 s')
      await sleep(50)
    }
    const auth = benchAuth
    for (const seller of sellers) await postJson(`${serviceUrl}/sellers`, seller, auth)
    await sleep(SETTLE_MS)
    const idle = rssOf(pid)

    let n = 0
    const checkout = async (buyerUrl: string) => {
      const i = n++
      const started = await postJson(
        `${serviceUrl}/offers/memory-offer-${i}/quotes/start`,
        { sellerId: sellers[i % sellers.length].id, buyerWalletAddressUrl: buyerUrl, amount: '100' },
        auth,
      )
      const [, , id] = new URL(started.redirectUrl).pathname.split('/')
      const { finishUrl } = await postJson(`${origin}/sandbox/interactions/${id}/approve`, {})
      const finish = new URL(finishUrl)
      const res = await fetch(`${serviceUrl}${finish.pathname}${finish.search}`, { headers: { accept: 'application/json' } })
      const finished = await res.json()
      if (res.status !== 200 || finished.state !== 'PROCESSING') throw new Error(`finish answered ${res.status}: ${JSON.stringify(finished)}`)
    }

    const rows: Array<Array<string | number>> = [['idle after start', idle.rss / MB, '', '', '']]
    for (let round = 1; round <= ROUNDS; round++) {
      const cpuBefore = cpuSecondsOf(pid)
      let peakDuring = 0
      const sampler = setInterval(() => service!.exitCode === null && (peakDuring = Math.max(peakDuring, rssOf(pid).rss)), 20)
      const began = performance.now()
      let failed = 0
      try {
        // Memory is what is measured: a checkout the loaded wallet failed is counted, not fatal.
        const results = await Promise.allSettled(buyers.map((buyer) => checkout(buyer)))
        failed = results.filter((r) => r.status === 'rejected').length
        if (failed === results.length) throw (results[0] as PromiseRejectedResult).reason
      } finally {
        clearInterval(sampler)
      }
      const seconds = (performance.now() - began) / 1000
      await sleep(SETTLE_MS)
      const after = rssOf(pid)
      const cpu = cpuSecondsOf(pid) - cpuBefore // settlement and webhooks included: they finish within SETTLE_MS
      rows.push([`round ${round}: ${CONCURRENCY} concurrent checkouts (${seconds.toFixed(1)} s${failed ? `, ${failed} failed` : ''})`, '', Math.max(peakDuring, 0) / MB, after.rss / MB, cpu])
    }
    const final = rssOf(pid)
    console.log(
      `memory on ${provider}: ${ROUNDS} x ${CONCURRENCY} concurrent checkouts over ${SELLERS} sellers and ${CONCURRENCY} buyer wallets, ` +
        `service alone in its own process (node ${SERVICE_ARGS.join(' ')}, SANDBOX=off), ${os.cpus().length} CPUs, load average before ${loadBefore.toFixed(1)}, Node ${process.version}`,
    )
    printTable(['', 'RSS idle MB', 'RSS peak MB', `RSS ${SETTLE_MS / 1000} s after MB`, 'service CPU s'], rows)
    console.log(`peak RSS of the whole run (VmHWM) ${(final.peak / MB).toFixed(0)} MB; target: peak <= 200 MB, back near idle (${(idle.rss / MB).toFixed(0)} MB) after`)
  } finally {
    if (service && service.exitCode === null) {
      const exited = new Promise((resolve) => service!.once('exit', resolve))
      service.kill('SIGTERM')
      await exited
    }
    receiver.close()
    receiver.closeAllConnections()
    await sandbox?.stop()
    if (admin) {
      if (databaseName) await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)
      await admin.end()
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
