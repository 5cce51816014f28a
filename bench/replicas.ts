// Replica scaling: checkout throughput and status reads through HAProxy in front of 1, 2 and 3
// service replicas on one PostgreSQL database, side by side in one run. Each configuration gets
// fresh replicas (so idle ones do not lend their workers) on the same database, and a generated
// HAProxy config (roundrobin, like deploy/haproxy.cfg). The sandbox wallet runs in its own process
// (bench/support/sandbox-process.ts); the load comes from this one. Not a test.
//
//   npx tsx bench/replicas.ts [checkouts=60] [readSeconds=5]
//
// Needs PostgreSQL (BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres:
// a database is created and dropped) and HAProxy (HAPROXY, default /usr/sbin/haproxy).
// Every process shares the machine's cores: on 2 cores, more replicas add parallel Node event
// loops but no CPU, so expect latency hiding (one replica waiting on the wallet while another
// works) rather than linear scaling.
import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { migrateDatabase } from '../src/db.js'
import { createSandboxIdentity } from '../src/sandbox/identities.js'
import { startChild } from './support/child.js'
import { printTable, summarizeLatencies } from './support/stats.js'
import { benchAuth, benchServiceEnv, freePort, startWebhookReceiver } from './support/service-env.js'

const CHECKOUTS = Math.min(Math.max(Number(process.argv[2] ?? 60), 10), 500)
const READ_SECONDS = Math.min(Math.max(Number(process.argv[3] ?? 5), 1), 30)
const CONCURRENCY = 8
const READ_CONNECTIONS = 16
const REPLICA_COUNTS = [1, 2, 3]
const TIME_LIMIT_MS = 180_000
const SELLER_ID = 'bench-seller'
const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy'
const SERVER_URL = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const repoRoot = path.resolve(import.meta.dirname, '..')
const auth = benchAuth


async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await res.text()
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}

async function waitUntilOk(url: string, what: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`)
    if (await fetch(url).then((res) => res.ok, () => false)) return
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within 60 s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

interface Process {
  url: string
  stop(): Promise<void>
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

async function startReplica(env: Record<string, string>): Promise<Process> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  await waitUntilOk(`${url}/ready`, 'replica', child)
  return { url, stop: stopper(child) }
}

/** HAProxy in the foreground with a generated config: round robin over `backends`. */
async function startHaproxy(dir: string, backends: string[]): Promise<Process> {
  const port = await freePort()
  const file = path.join(dir, `haproxy-${backends.length}.cfg`)
  fs.writeFileSync(
    file,
    [
      'global',
      '    maxconn 4096',
      'defaults',
      '    mode http',
      '    option http-keep-alive',
      '    timeout connect 5s',
      '    timeout client 60s',
      '    timeout server 60s',
      'frontend payments',
      `    bind 127.0.0.1:${port}`,
      '    default_backend replicas',
      'backend replicas',
      '    balance roundrobin',
      ...backends.map((url, i) => `    server replica-${i} ${new URL(url).host}`),
      '',
    ].join('\n'),
  )
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] })
  const url = `http://127.0.0.1:${port}`
  await waitUntilOk(`${url}/health`, 'haproxy', child)
  return { url, stop: stopper(child) }
}


interface Measured {
  replicas: number
  checkoutsPerSecond: number
  finishP50: number
  finishP99: number
  readsPerSecond: number
  readP99: number
}

async function measure(replicas: number, env: Record<string, string>, dir: string, origin: string, runIndex: number): Promise<Measured> {
  const started = await Promise.all(Array.from({ length: replicas }, () => startReplica(env)))
  const proxy = await startHaproxy(dir, started.map((replica) => replica.url))
  try {
    const buyer = `${origin}/buyer`
    const checkout = async (i: number) => {
      const { pendingId, redirectUrl } = await postJson(
        `${proxy.url}/offers/bench-${runIndex}-${i}/quotes/start`,
        { sellerId: SELLER_ID, buyerWalletAddressUrl: buyer, amount: '100' },
        auth,
      )
      const [, , id] = new URL(redirectUrl).pathname.split('/')
      const { finishUrl } = await postJson(`${origin}/sandbox/interactions/${id}/approve`, {})
      const finish = new URL(finishUrl)
      const t0 = performance.now()
      const res = await fetch(`${proxy.url}${finish.pathname}${finish.search}`, { headers: { accept: 'application/json' } })
      const body = await res.json()
      if (res.status !== 200 || !body.ok) throw new Error(`finish answered ${res.status}: ${JSON.stringify(body)}`)
      return { pendingId: pendingId as string, finishMs: performance.now() - t0 }
    }
    // Warm-up: each replica's clients, grant tokens and connections.
    await Promise.all(Array.from({ length: 2 * replicas }, (_, i) => checkout(-1 - i)))

    const results: { pendingId: string; finishMs: number }[] = []
    let next = 0
    const began = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CHECKOUTS) results.push(await checkout(next++))
      }),
    )
    const seconds = (performance.now() - began) / 1000
    const finish = summarizeLatencies(results.map((r) => r.finishMs))

    const ids = results.map((r) => r.pendingId)
    const reads = await autocannon({
      url: proxy.url,
      connections: READ_CONNECTIONS,
      duration: READ_SECONDS,
      requests: [{ method: 'GET', headers: auth, setupRequest: (req) => ({ ...req, path: `/payments/${ids[Math.floor(Math.random() * ids.length)]}/status` }) }],
    })
    if (reads.non2xx > 0 || reads.errors > 0) throw new Error(`status reads: ${reads.non2xx} non-2xx, ${reads.errors} errors`)
    return {
      replicas,
      checkoutsPerSecond: CHECKOUTS / seconds,
      finishP50: finish.p50,
      finishP99: finish.p99,
      readsPerSecond: reads.requests.average,
      readP99: reads.latency.p99,
    }
  } finally {
    await proxy.stop()
    await Promise.all(started.map((replica) => replica.stop()))
  }
}

async function main() {
  const guard = setTimeout(() => {
    console.error(`replica benchmark did not finish within ${TIME_LIMIT_MS / 1000} s`)
    process.exit(1)
  }, TIME_LIMIT_MS)
  guard.unref()
  const loadBefore = os.loadavg()[0]

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-replicas-'))
  const keysDir = path.join(dir, 'keys')
  const databaseName = `bench_replicas_${crypto.randomBytes(4).toString('hex')}`
  const server = new pg.Client({ connectionString: SERVER_URL })
  await server.connect()
  await server.query(`CREATE DATABASE ${databaseName}`)
  const databaseUrl = Object.assign(new URL(SERVER_URL), { pathname: `/${databaseName}` }).toString()
  const sandbox = await startChild<{ origin: string }>(path.join(import.meta.dirname, 'support/sandbox-process.ts'))
  const receiver = await startWebhookReceiver()
  try {
    await migrateDatabase(databaseUrl)
    const { origin } = sandbox.ready
    const identity = createSandboxIdentity({ dir: keysDir, walletName: 'seller' })
    await postJson(`${origin}/sandbox/wallets/seller/keys`, { jwk: identity.jwk })
    const env = {
      NODE_ENV: 'development',
      ...benchServiceEnv({ databaseUrl, keysDir, webhookReceiverUrl: receiver.url }),
      DATABASE_POOL_SIZE: '5',
    }
    const registrar = await startReplica(env)
    await postJson(`${registrar.url}/sellers`, { id: SELLER_ID, walletAddressUrl: `${origin}/seller`, keyId: identity.keyId, privateKeyPath: identity.privateKeyPath }, auth)
    await registrar.stop()

    const rows: Measured[] = []
    for (const [i, replicas] of REPLICA_COUNTS.entries()) rows.push(await measure(replicas, env, dir, origin, i))

    const base = rows[0]
    console.log(
      `\n${CHECKOUTS} checkouts at concurrency ${CONCURRENCY}, then status reads (${READ_CONNECTIONS} connections x ${READ_SECONDS} s), ` +
        `through HAProxy (roundrobin) to N replicas on one PostgreSQL; sandbox wallet in its own process; ${os.cpus().length} cores; ` +
        `load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after\n`,
    )
    printTable(
      ['replicas', 'checkouts/s', 'x 1 replica', 'finish p50 ms', 'finish p99 ms', 'status reads/s', 'x 1 replica', 'read p99 ms'],
      rows.map((r) => [
        String(r.replicas),
        r.checkoutsPerSecond,
        `${(r.checkoutsPerSecond / base.checkoutsPerSecond).toFixed(2)}x`,
        r.finishP50,
        r.finishP99,
        r.readsPerSecond,
        `${(r.readsPerSecond / base.readsPerSecond).toFixed(2)}x`,
        r.readP99,
      ]),
    )
  } finally {
    await receiver.close()
    await sandbox.stop()
    await server.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)
    await server.end()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
