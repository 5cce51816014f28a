// Start-up: the time from spawning `npm start` (the README's command: migrations on start, the
// embedded sandbox wallet, LOG_LEVEL=info) on an existing, migrated database to its first 200 on
// /health, and on /ready (which also waits for the GraphQL stack, loaded after the server
// listens: src/app.ts). Side by side, in the same rounds: node with the start script's arguments
// (`npm start` without npm's own start: scripts/start.mjs, which finds dist/ up to date and runs
// it) and the floor, a bare node:http server under tsx (bench/support/health-server.ts). The
// database is prepared by a first `npm start` (which also compiles dist/), as a user's second
// start finds it (migrated, sandbox key written, seller registered). Then the same on
// PostgreSQL, on a database created for the run and dropped after (skipped when no server answers
// at DEV_POSTGRES_URL). Loopback only, bounded in time; not a test.
//
//   npx tsx bench/startup.ts [runs=5]
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { npmStartNodeArgs } from './support/service-env.js'
import { percentile, printTable } from './support/stats.js'

const RUNS = Math.min(Math.max(Number(process.argv[2] ?? 5), 1), 15)
const TIME_LIMIT_MS = 180_000
const START_TIMEOUT_MS = 30_000
const root = path.resolve(import.meta.dirname, '..')
const devPostgresUrl = process.env.DEV_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface Launch {
  label: string
  command: string[]
  env: Record<string, string>
  /** Also poll /ready after /health (the service has it; the floor does not). */
  ready: boolean
}

interface Started {
  health: number
  ready?: number
}

/**
 * Spawns `launch` in a process group of its own, polls /health every 5 ms until it answers 200
 * (then /ready likewise), then stops the whole group (npm and node) with SIGTERM and waits until
 * every process is gone. Returns the milliseconds from spawn to those first 200s.
 */
async function timeToHealthy(launch: Launch): Promise<Started> {
  const port = await freePort()
  const env = { ...process.env, ...launch.env, PORT: String(port), SANDBOX_PORT: String(await freePort()) }
  const began = performance.now()
  const child = spawn(launch.command[0], launch.command.slice(1), { cwd: root, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  let exited: number | null | undefined
  child.once('exit', (code) => (exited = code))
  const firstOk = async (probe: '/health' | '/ready') => {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}${probe}`).then((res) => res.status === 200, () => false)
      if (ok) return performance.now() - began
      if (exited !== undefined) throw new Error(`${launch.label} exited (${exited}) before answering ${probe}:\n${stderr}`)
      if (performance.now() - began > START_TIMEOUT_MS) throw new Error(`${launch.label} did not answer ${probe} within ${START_TIMEOUT_MS} ms:\n${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
  try {
    const health = await firstOk('/health')
    return { health, ...(launch.ready ? { ready: await firstOk('/ready') } : {}) }
  } finally {
    const group = -child.pid!
    const alive = () => {
      try {
        process.kill(group, 0)
        return true
      } catch {
        return false
      }
    }
    if (alive()) process.kill(group, 'SIGTERM')
    const deadline = performance.now() + 15_000
    while (alive() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    if (alive()) process.kill(group, 'SIGKILL')
  }
}

interface Row {
  label: string
  times: Started[]
}

/** One prepared start (not counted), then `RUNS` rounds, each launch once per round. */
async function measure(launches: Launch[]): Promise<{ rows: Row[]; firstStart: number }> {
  const firstStart = (await timeToHealthy(launches[0])).health
  const rows = launches.map((launch) => ({ label: launch.label, times: [] as Started[] }))
  for (let round = 0; round < RUNS; round++) {
    for (const [i, launch] of launches.entries()) rows[i].times.push(await timeToHealthy(launch))
  }
  return { rows, firstStart }
}

function print(title: string, { rows, firstStart }: { rows: Row[]; firstStart: number }) {
  console.log(`\n${title} (first start on a fresh database, not counted: ${firstStart.toFixed(0)} ms)`)
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b)
  const median = (values: number[]) => percentile(sorted(values), 50)
  printTable(
    ['', '/health median ms', 'min ms', 'max ms', '/ready median ms'],
    rows.map(({ label, times }) => {
      const health = sorted(times.map((t) => t.health))
      const ready = times.flatMap((t) => (t.ready === undefined ? [] : [t.ready]))
      return [label, median(health), health[0], health.at(-1)!, ready.length ? median(ready) : '-']
    }),
  )
  const [service, , floor] = rows
  console.log(`npm start /health median minus the floor's: ${(median(service.times.map((t) => t.health)) - median(floor.times.map((t) => t.health))).toFixed(0)} ms`)
}

async function main() {
  const loadBefore = os.loadavg()[0] // other work on the machine skews absolute numbers
  const guard = setTimeout(() => {
    console.error(`startup benchmark did not finish within ${TIME_LIMIT_MS / 1000} s`)
    process.exit(1)
  }, TIME_LIMIT_MS)
  guard.unref()

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-startup-'))
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const node = process.execPath
  // As a developer's shell would start it: no .env of the benchmark's own, development mode.
  const serviceEnv = { NODE_ENV: 'development', HOST: '127.0.0.1', LOG_LEVEL: 'info', KEYS_DIR: path.join(dir, 'keys') }
  const launches = (databaseUrl: string, extra: Record<string, string> = {}): Launch[] => [
    { label: 'npm start (service)', command: [npm, 'start'], env: { ...serviceEnv, ...extra, DATABASE_URL: databaseUrl }, ready: true },
    { label: `node ${npmStartNodeArgs().join(' ')} (no npm)`, command: [node, ...npmStartNodeArgs()], env: { ...serviceEnv, ...extra, DATABASE_URL: databaseUrl }, ready: true },
    { label: 'bare node:http server under tsx (floor)', command: [node, '--import', 'tsx', 'bench/support/health-server.ts'], env: { HEALTH_SERVER: 'bare' }, ready: false },
  ]
  try {
    console.log(`startup: ${RUNS} runs each, spawn to first 200 on /health, ${os.cpus().length} CPUs, load average before ${loadBefore.toFixed(1)}, Node ${process.version}`)
    print('SQLite', await measure(launches(`file:${path.join(dir, 'payments.db')}`)))

    const admin = new pg.Client({ connectionString: devPostgresUrl, connectionTimeoutMillis: 2000 })
    const reachable = await admin.connect().then(() => true, () => false)
    if (!reachable) {
      console.log(`\nPostgreSQL: skipped (no server at ${devPostgresUrl})`)
      return
    }
    const name = `bench_startup_${process.pid}`
    await admin.query(`CREATE DATABASE ${name}`)
    try {
      const url = new URL(devPostgresUrl)
      url.pathname = `/${name}`
      const key = crypto.randomBytes(32).toString('base64') // required on PostgreSQL
      print('PostgreSQL', await measure(launches(url.href, { TOKEN_ENCRYPTION_KEY: key })))
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
