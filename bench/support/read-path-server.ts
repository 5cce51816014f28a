// The servers bench/read-path.ts measures, each in its own process so that it has a core to
// itself while autocannon drives it from another:
//   READ_PATH_SERVER=service  the payments service (startService, API token set, workers running)
//   READ_PATH_SERVER=bare     the floor: node:http + the driver (better-sqlite3, or a pg pool of
//                             DATABASE_POOL_SIZE), one prepared statement, answering the same JSON
//                             as GET /payments/:pendingId/status and as the GraphQL `payment`
//                             query of bench/read-path.ts
// Prints {"url": ...} once listening; stops on SIGTERM.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Database from 'better-sqlite3'
import pg from 'pg'
import { parseConfig } from '../../src/config.js'
import { databaseProviderOf, type PaymentState } from '../../src/db.js'
import { sqlitePath } from '../../src/db/provider.js'
import { restStatusOf } from '../../src/payments/state.js'
import { createLogger } from '../../src/logger.js'
import { startService } from '../../src/service.js'

const kind = process.env.READ_PATH_SERVER
const databaseUrl = process.env.DATABASE_URL!
const token = process.env.API_TOKENS!


interface Row {
  id: string
  offerId: string
  state: string
  buyerWalletAddressUrl: string
  incomingPaymentId: string | null
  outgoingPaymentId: string | null
  quoteId: string | null
}

const STATUS_SQL =
  'SELECT "id", "offerId", "state", "buyerWalletAddressUrl", "incomingPaymentId", "outgoingPaymentId", "quoteId" FROM "Payment" WHERE "id" = $1 AND "redirectUrl" IS NOT NULL'

/** One prepared statement on the driver: better-sqlite3's, or a named statement on a pg pool. */
function statusReader(): (id: string) => Promise<Row | undefined> {
  if (databaseProviderOf(databaseUrl) === 'postgresql') {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) })
    return async (id) => (await pool.query<Row>({ name: 'status', text: STATUS_SQL, values: [id] })).rows[0]
  }
  const database = new Database(sqlitePath(databaseUrl), { readonly: true })
  const byId = database.prepare<[Record<string, string>], Row>(STATUS_SQL)
  return async (id) => byId.get({ 1: id })
}

function startBare(): Promise<http.Server> {
  const byId = statusReader()
  const authorization = `Bearer ${token}`
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
  }
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== authorization) return send(res, 401, { error: 'Missing or invalid bearer token' })
    const status = /^\/payments\/([^/]+)\/status$/.exec(req.url ?? '')
    if (req.method === 'GET' && status) {
      void byId(decodeURIComponent(status[1])).then((p) => {
        if (!p) return send(res, 404, { error: 'Payment not found' })
        send(res, 200, {
          pendingId: p.id,
          offerId: p.offerId,
          status: restStatusOf[p.state as PaymentState],
          buyerWalletAddressUrl: p.buyerWalletAddressUrl,
          incomingPaymentId: p.incomingPaymentId,
          ...(p.outgoingPaymentId ? { outgoingPaymentId: p.outgoingPaymentId } : {}),
          quoteId: p.quoteId,
        })
      })
      return
    }
    if (req.method === 'POST' && req.url === '/graphql') {
      const chunks: Buffer[] = []
      req.on('data', (chunk) => chunks.push(chunk))
      req.on('end', async () => {
        // The floor knows its one query: it reads the variable and answers that query's shape.
        const { variables } = JSON.parse(Buffer.concat(chunks).toString())
        const p = await byId(String(variables.pendingId))
        send(res, 200, {
          data: {
            payment: p
              ? {
                  pendingId: p.id,
                  offerId: p.offerId,
                  status: restStatusOf[p.state as PaymentState],
                  buyerWalletAddressUrl: p.buyerWalletAddressUrl,
                  incomingPaymentId: p.incomingPaymentId,
                  outgoingPaymentId: p.outgoingPaymentId,
                  quote: p.quoteId ? { id: p.quoteId } : null,
                }
              : null,
          },
        })
      })
      return
    }
    send(res, 404, { error: 'Not found' })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

if (kind === 'bare') {
  const server = await startBare()
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`)
  process.once('SIGTERM', () => server.close(() => process.exit(0)))
} else if (kind === 'service') {
  const cfg = parseConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', MIGRATE_ON_START: 'false', SANDBOX: 'off' })
  const service = await startService(cfg, { logger: createLogger('silent') })
  process.stdout.write(`${JSON.stringify({ url: service.url })}\n`)
  process.once('SIGTERM', () => void service.close().then(() => process.exit(0)))
} else {
  throw new Error('READ_PATH_SERVER must be service or bare')
}
