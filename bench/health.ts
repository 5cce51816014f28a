// The HTTP layer alone: `GET /health` and a 404 (an unknown path with the API token, through every
// middleware that runs before the router gives up, authentication included) on the service, side by side with the floor: a bare node:http
// server answering the same JSON (bench/support/health-server.ts). Each server runs in its own
// process and autocannon drives it from this one. The service logs at LOG_LEVEL (default info, as
// `npm start` does) to /dev/null. Loopback only, bounded in time; not a test.
//
//   npx tsx bench/health.ts [seconds per measurement=5] [connections=10]
//   LOG_LEVEL=silent npx tsx bench/health.ts      # the same without the request log
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon, { type Result } from 'autocannon'
import { migrateDatabase } from '../src/db.js'
import { startChild, type ChildServer } from './support/child.js'
import { printTable } from './support/stats.js'

const SECONDS = Math.min(Math.max(Number(process.argv[2] ?? 5), 2), 15)
const CONNECTIONS = Math.min(Math.max(Number(process.argv[3] ?? 10), 1), 64)
const WARMUP_SECONDS = 2
const TIME_LIMIT_MS = 90_000
const LOG_LEVEL = process.env.LOG_LEVEL ?? 'info'
const API_TOKEN = 'bench-token-0123456789abcdef'
const headers = { authorization: `Bearer ${API_TOKEN}` }

interface Target {
  label: string
  url: string
  path: '/health' | '/no-such-route'
}

async function drive(target: Target, seconds: number): Promise<Result> {
  const result = await autocannon({ url: target.url + target.path, connections: CONNECTIONS, duration: seconds, headers })
  const expected = target.path === '/health' ? 0 : result.requests.total
  if (result.errors || result.timeouts || result.non2xx !== expected) {
    throw new Error(`${target.label} ${target.path}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`)
  }
  return result
}

/** The status and the body's keys must match, or the comparison means nothing. */
async function shapeOf(target: Target): Promise<string> {
  const res = await fetch(target.url + target.path, { headers })
  const body = (await res.json()) as Record<string, unknown>
  return `${res.status} ${res.headers.get('content-type')} ${Object.keys(body).join(',')}${'error' in body ? ` ${JSON.stringify(body)}` : ''}`
}

async function main() {
  const loadBefore = os.loadavg()[0] // other work on the machine skews absolute numbers; ratios less
  const guard = setTimeout(() => {
    console.error(`health benchmark did not finish within ${TIME_LIMIT_MS / 1000} s`)
    process.exit(1)
  }, TIME_LIMIT_MS)
  guard.unref()

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-health-'))
  const databaseUrl = `file:${path.join(dir, 'payments.db')}`
  const children: ChildServer<{ url: string }>[] = []
  try {
    await migrateDatabase(databaseUrl)
    const serverFile = path.join(import.meta.dirname, 'support/health-server.ts')
    const env = { DATABASE_URL: databaseUrl, API_TOKENS: API_TOKEN, KEYS_DIR: dir, LOG_LEVEL }
    const service = await startChild<{ url: string }>(serverFile, { ...env, HEALTH_SERVER: 'service' })
    children.push(service)
    const bare = await startChild<{ url: string }>(serverFile, { ...env, HEALTH_SERVER: 'bare' })
    children.push(bare)

    const pairs: Array<[Target, Target]> = (['/health', '/no-such-route'] as const).map((p) => [
      { label: 'service', url: service.ready.url, path: p },
      { label: 'bare node:http', url: bare.ready.url, path: p },
    ])
    for (const [s, b] of pairs) {
      const [a, c] = [await shapeOf(s), await shapeOf(b)]
      if (a !== c) throw new Error(`${s.path} answers differ:\n  service: ${a}\n  bare:    ${c}`)
    }

    const rows: Array<Array<string | number>> = []
    const ratios: string[] = []
    for (const [serviceTarget, bareTarget] of pairs) {
      const measured: Result[] = []
      for (const target of [serviceTarget, bareTarget]) {
        await drive(target, WARMUP_SECONDS)
        const result = await drive(target, SECONDS)
        measured.push(result)
        rows.push([`GET ${target.path}: ${target.label}`, result.requests.average, result.latency.p50, result.latency.p99, result.requests.total])
      }
      const [s, b] = measured
      ratios.push(
        `GET ${serviceTarget.path}: service/bare req/s ${(s.requests.average / b.requests.average).toFixed(2)}x, ` +
          `p50 ${s.latency.p50} vs ${b.latency.p50} ms, p99 ${s.latency.p99} vs ${b.latency.p99} ms`,
      )
    }

    console.log(
      `health: autocannon ${CONNECTIONS} connections x ${SECONDS} s each after ${WARMUP_SECONDS} s warm-up, each server in its own process, ` +
        `service LOG_LEVEL=${LOG_LEVEL}, ${os.cpus().length} CPUs, load average before ${loadBefore.toFixed(1)}, Node ${process.version}`,
    )
    printTable(['', 'req/s', 'p50 ms', 'p99 ms', 'requests'], rows)
    for (const line of ratios) console.log(line)
  } finally {
    for (const child of children) await child.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
