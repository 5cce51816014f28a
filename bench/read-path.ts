// Read path: `GET /payments/:pendingId/status` and the GraphQL `payment(pendingId)` query against
// 100,000 stored payments, side by side with the floor: a bare node:http + better-sqlite3 server
// answering the same JSON (bench/support/read-path-server.ts). Each server runs in its own
// process and autocannon drives it from this one, hitting random existing ids. Loopback only,
// bounded in time; not a test.
//
//   npx tsx bench/read-path.ts [seconds per measurement=5] [connections=10]
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon, { type Result } from 'autocannon'
import Database from 'better-sqlite3'
import { monotonicFactory } from 'ulid'
import { closeDatabase, db, migrateDatabase, openDatabase } from '../src/db.js'
import { sqlitePath } from '../src/db/sqlite.js'
import { startChild, type ChildServer } from './support/child.js'
import { printTable } from './support/stats.js'

const PAYMENTS = 100_000
const SECONDS = Math.min(Math.max(Number(process.argv[2] ?? 5), 2), 15)
const CONNECTIONS = Math.min(Math.max(Number(process.argv[3] ?? 10), 1), 64)
const WARMUP_SECONDS = 2
const TIME_LIMIT_MS = 120_000
const API_TOKEN = 'bench-token-0123456789abcdef'
const SELLER_ID = 'seller-1'

const PAYMENT_QUERY = `query Payment($pendingId: String!) {
  payment(pendingId: $pendingId) { pendingId offerId status buyerWalletAddressUrl incomingPaymentId outgoingPaymentId quote { id } }
}`

const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00') // as Prisma's SQLite adapter stores DateTime
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]

/**
 * 100k payments shaped like real ones, written with one prepared insert in one transaction.
 * States are spread as a live marketplace's would be; none is due for the settlement worker
 * (PROCESSING checks are scheduled a day ahead, consent is recent), so the service's background
 * workers find nothing to call a wallet about.
 */
function fillPayments(file: string): string[] {
  const database = new Database(file)
  // A throwaway database filled in one go: no rollback journal, no fsync (the service opens it
  // in WAL mode afterwards, as always).
  database.pragma('journal_mode = OFF')
  database.pragma('synchronous = OFF')
  const now = Date.now()
  database.prepare('INSERT INTO Seller (id, walletAddressUrl, keyId, privateKeyPath, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?)').run(
    SELLER_ID,
    'https://wallet.example/seller',
    'seller-key-1',
    'seller.pem',
    iso(now),
    iso(now),
  )
  const columns = [
    'id', 'offerId', 'sellerId', 'state', 'buyerWalletAddressUrl', 'amount', 'assetCode', 'assetScale', 'requestFingerprint',
    'incomingPaymentId', 'incomingPaymentExpiresAt', 'quoteId', 'debitAmount', 'debitAssetCode', 'debitAssetScale', 'receiveAmount',
    'quoteExpiresAt', 'buyerAuthServer', 'redirectUrl', 'continueUri', 'continueToken', 'continueWaitSeconds', 'grantRequestedAt',
    'clientNonce', 'finishNonce', 'interactRef', 'accessToken', 'accessTokenManageUrl', 'accessTokenExpiresAt', 'outgoingPaymentId',
    'outgoingPaymentJson', 'sentAmount', 'receivedAmount', 'nextCheckAt', 'checkAttempts', 'lastCheckedAt', 'failureCode',
    'failureMessage', 'createdAt', 'updatedAt', 'finishedAt',
  ]
  const insert = database.prepare(`INSERT INTO Payment (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`)
  const states = [
    ...Array<string>(80).fill('COMPLETED'),
    ...Array<string>(6).fill('FAILED'),
    ...Array<string>(3).fill('REJECTED'),
    ...Array<string>(3).fill('EXPIRED'),
    ...Array<string>(5).fill('AWAITING_APPROVAL'),
    ...Array<string>(3).fill('PROCESSING'),
  ]
  // Random-looking strings from one pool of random bytes: a crypto call per value would make
  // filling take seconds longer, and nothing here needs them unpredictable.
  const pool = crypto.randomBytes(1 << 20)
  const randomHex = (bytes: number) => {
    const at = Math.floor(Math.random() * (pool.length - bytes))
    return pool.subarray(at, at + bytes).toString('hex')
  }
  const randomB64 = (bytes: number) => {
    const at = Math.floor(Math.random() * (pool.length - bytes))
    return pool.subarray(at, at + bytes).toString('base64url')
  }
  const secret = () => `v1.${randomB64(12)}.${randomB64(16)}.${randomB64(48)}` // AES-GCM iv.tag.ciphertext, as src/secrets.ts
  const newId = monotonicFactory(Math.random) // ulid's default draws from crypto once per character
  const ids: string[] = []
  const start = now - 90 * 86_400_000
  database.transaction(() => {
    for (let i = 0; i < PAYMENTS; i++) {
      const createdMs = start + Math.floor((i / PAYMENTS) * 90 * 86_400_000)
      const id = newId(createdMs)
      const state = i === 0 ? 'COMPLETED' : pick(states)
      const recent = state === 'AWAITING_APPROVAL' || state === 'PROCESSING'
      const created = recent ? now - 60_000 : createdMs
      const paid = state === 'COMPLETED' || state === 'PROCESSING' || (state === 'FAILED' && i % 2 === 0)
      const amount = String(100 + (i % 50) * 250)
      const buyer = `https://wallet.example/buyers/b${i % 5000}`
      const outgoingPaymentId = paid ? `https://wallet.example/rs/outgoing-payments/${crypto.randomUUID()}` : null
      const quoteId = `https://wallet.example/rs/quotes/${crypto.randomUUID()}`
      const incomingPaymentId = `https://wallet.example/rs/incoming-payments/${crypto.randomUUID()}`
      const usd = { assetCode: 'USD', assetScale: 2 }
      const failure = {
        FAILED: ['FUNDING_FAILED', 'The buyer wallet did not fund the payment (received 0 of ' + amount + ')'],
        REJECTED: ['GRANT_REJECTED', 'The buyer rejected the payment in their wallet'],
        EXPIRED: ['CONSENT_EXPIRED', 'The buyer did not approve in time'],
      }[state as 'FAILED' | 'REJECTED' | 'EXPIRED']
      const final = !recent
      insert.run({
        id,
        offerId: `job-${(i * 7919) % 20_000}`,
        sellerId: SELLER_ID,
        state,
        buyerWalletAddressUrl: buyer,
        amount,
        ...usd,
        requestFingerprint: crypto.createHash('sha256').update(id).digest('hex'),
        incomingPaymentId,
        incomingPaymentExpiresAt: iso(created + 86_400_000),
        quoteId,
        debitAmount: amount,
        debitAssetCode: 'USD',
        debitAssetScale: 2,
        receiveAmount: amount,
        quoteExpiresAt: iso(created + 300_000),
        buyerAuthServer: 'https://wallet.example/auth',
        redirectUrl: `https://wallet.example/interact/${crypto.randomUUID()}/${randomHex(16)}`,
        continueUri: `https://wallet.example/auth/continue/${crypto.randomUUID()}`,
        continueToken: secret(),
        continueWaitSeconds: 5,
        grantRequestedAt: iso(created),
        clientNonce: secret(),
        finishNonce: crypto.randomUUID(),
        interactRef: state === 'AWAITING_APPROVAL' ? null : crypto.randomUUID(),
        accessToken: paid ? secret() : null,
        accessTokenManageUrl: paid ? `https://wallet.example/auth/token/${crypto.randomUUID()}` : null,
        accessTokenExpiresAt: paid ? iso(created + 600_000) : null,
        outgoingPaymentId,
        outgoingPaymentJson: outgoingPaymentId
          ? JSON.stringify({
              id: outgoingPaymentId,
              walletAddress: buyer,
              quoteId,
              receiver: incomingPaymentId,
              receiveAmount: { value: amount, ...usd },
              debitAmount: { value: amount, ...usd },
              sentAmount: { value: '0', ...usd },
              grantSpentDebitAmount: { value: amount, ...usd },
              grantSpentReceiveAmount: { value: amount, ...usd },
              metadata: { pendingId: id, offerId: `job-${(i * 7919) % 20_000}` },
              failed: false,
              createdAt: new Date(created + 20_000).toISOString(),
              updatedAt: new Date(created + 20_000).toISOString(),
            })
          : null,
        sentAmount: paid ? amount : null,
        receivedAmount: state === 'COMPLETED' ? amount : paid ? '0' : null,
        nextCheckAt: state === 'PROCESSING' ? iso(now + 86_400_000) : null,
        checkAttempts: paid ? 1 : 0,
        lastCheckedAt: paid ? iso(created + 22_000) : null,
        failureCode: failure?.[0] ?? null,
        failureMessage: failure?.[1] ?? null,
        createdAt: iso(created),
        updatedAt: iso(created + 22_000),
        finishedAt: final ? iso(created + 22_000) : null,
      })
      ids.push(id)
    }
  })()
  database.close()
  return ids
}

interface Target {
  label: string
  url: string
  endpoint: 'REST status' | 'GraphQL payment'
}

function requestFor(endpoint: Target['endpoint'], id: string): { method: string; path: string; body?: string } {
  return endpoint === 'REST status'
    ? { method: 'GET', path: `/payments/${id}/status` }
    : { method: 'POST', path: '/graphql', body: JSON.stringify({ query: PAYMENT_QUERY, variables: { pendingId: id } }) }
}

const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }

async function fetchBody(target: Target, id: string): Promise<string> {
  const { method, path: pathname, body } = requestFor(target.endpoint, id)
  const res = await fetch(target.url + pathname, { method, headers, body })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${target.label} ${target.endpoint} answered ${res.status}: ${text}`)
  return text
}

async function drive(target: Target, ids: string[], seconds: number): Promise<Result> {
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
    requests: [{ setupRequest: (req) => ({ ...req, ...requestFor(target.endpoint, pick(ids)) }) }],
  })
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`${target.label} ${target.endpoint}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`)
  }
  return result
}

async function main() {
  const loadBefore = os.loadavg()[0] // other work on the machine skews absolute numbers; ratios less
  const guard = setTimeout(() => {
    console.error(`read-path benchmark did not finish within ${TIME_LIMIT_MS / 1000} s`)
    process.exit(1)
  }, TIME_LIMIT_MS)
  guard.unref()

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-read-path-'))
  const databaseUrl = `file:${path.join(dir, 'payments.db')}`
  const children: ChildServer<{ url: string }>[] = []
  try {
    await migrateDatabase(databaseUrl)
    const filling = performance.now()
    const ids = fillPayments(sqlitePath(databaseUrl))
    const fillSeconds = (performance.now() - filling) / 1000

    const serverFile = path.join(import.meta.dirname, 'support/read-path-server.ts')
    const env = { DATABASE_URL: databaseUrl, API_TOKENS: API_TOKEN, KEYS_DIR: dir, LOG_LEVEL: 'silent' }
    const service = await startChild<{ url: string }>(serverFile, { ...env, READ_PATH_SERVER: 'service' })
    children.push(service)
    const bare = await startChild<{ url: string }>(serverFile, { ...env, READ_PATH_SERVER: 'bare' })
    children.push(bare)

    const pairs: Array<[Target, Target]> = (['REST status', 'GraphQL payment'] as const).map((endpoint) => [
      { label: 'service', url: service.ready.url, endpoint },
      { label: 'bare node:http + better-sqlite3', url: bare.ready.url, endpoint },
    ])

    // Both must answer byte-identical bodies, or the comparison means nothing.
    const samples = [ids[0], ids[1], ids[PAYMENTS >> 1], ids[PAYMENTS - 1], ...Array.from({ length: 20 }, () => pick(ids))]
    for (const [serviceTarget, bareTarget] of pairs) {
      for (const id of samples) {
        const [a, b] = await Promise.all([fetchBody(serviceTarget, id), fetchBody(bareTarget, id)])
        if (a !== b) throw new Error(`${serviceTarget.endpoint} bodies differ for ${id}:\n  service: ${a}\n  bare:    ${b}`)
      }
    }
    const example = await fetchBody(pairs[0][0], ids[0])

    const rows: Array<Array<string | number>> = []
    const ratios: string[] = []
    for (const [serviceTarget, bareTarget] of pairs) {
      const measured: Result[] = []
      for (const target of [serviceTarget, bareTarget]) {
        await drive(target, ids, WARMUP_SECONDS)
        const result = await drive(target, ids, SECONDS)
        measured.push(result)
        rows.push([`${target.endpoint}: ${target.label}`, result.requests.average, result.latency.p50, result.latency.p99, result.requests.total])
      }
      const [s, b] = measured
      ratios.push(
        `${serviceTarget.endpoint}: service/bare req/s ${(s.requests.average / b.requests.average).toFixed(2)}x ` +
          `(bare is ${(b.requests.average / s.requests.average).toFixed(1)}x faster), ` +
          `p50 ${s.latency.p50} vs ${b.latency.p50} ms, p99 ${s.latency.p99} vs ${b.latency.p99} ms`,
      )
    }

    // Where the service's time goes: the same lookup through the service's Prisma client (all
    // 45 columns, as requirePayment reads them; then only the 8 the status needs) and through a
    // prepared better-sqlite3 statement, sequentially in this process while the servers are idle.
    const lookups = Array.from({ length: 2000 }, () => pick(ids))
    const perCall = async (lookup: (id: string) => unknown) => {
      for (const id of lookups.slice(0, 200)) await lookup(id)
      const began = performance.now()
      for (const id of lookups) await lookup(id)
      return (performance.now() - began) / lookups.length
    }
    await openDatabase(databaseUrl)
    const statusFields = { id: true, offerId: true, state: true, buyerWalletAddressUrl: true, incomingPaymentId: true, outgoingPaymentId: true, quoteId: true, redirectUrl: true }
    const prismaAllMs = await perCall((id) => db.payment.findUnique({ where: { id } }))
    const prismaSelectMs = await perCall((id) => db.payment.findUnique({ where: { id }, select: statusFields }))
    await closeDatabase()
    const raw = new Database(sqlitePath(databaseUrl), { readonly: true })
    const byId = raw.prepare('SELECT * FROM Payment WHERE id = ?')
    const rawMs = await perCall((id) => byId.get(id))
    raw.close()

    console.log(
      `read path: ${PAYMENTS.toLocaleString('en')} payments (filled in ${fillSeconds.toFixed(1)} s), random existing ids, ` +
        `autocannon ${CONNECTIONS} connections x ${SECONDS} s each after ${WARMUP_SECONDS} s warm-up, ` +
        `each server in its own process, ${os.cpus().length} CPUs, load average before ${loadBefore.toFixed(1)}, Node ${process.version}`,
    )
    console.log(`identical bodies checked on ${samples.length} ids per endpoint, e.g. ${example}`)
    printTable(['', 'req/s', 'p50 ms', 'p99 ms', 'requests'], rows)
    for (const line of ratios) console.log(line)
    console.log(
      `one payment by id, sequential, in-process, per call: Prisma findUnique all 45 columns ${prismaAllMs.toFixed(3)} ms, ` +
        `Prisma findUnique selecting the 8 status columns ${prismaSelectMs.toFixed(3)} ms, better-sqlite3 SELECT * ${rawMs.toFixed(3)} ms`,
    )
  } finally {
    for (const child of children) await child.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
