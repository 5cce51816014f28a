// Fills a benchmark database with payments shaped like a live marketplace's, in SQL on the database
// itself (a recursive CTE on SQLite, generate_series on PostgreSQL): one statement, one
// transaction, a million rows in seconds. Ids are `01KB` + the row number, 26 characters in the
// ULID alphabet, so the nth payment's id is known without reading it back.
// States are spread as a live marketplace's would be; none is due for a worker (PROCESSING checks
// are a day ahead, consent requests are fresh, nothing awaits clean-up or delivery), so the
// service's background workers find nothing to call a wallet about.
import Database from 'better-sqlite3'
import pg from 'pg'
import { databaseProviderOf } from '../../src/db.js'
import { sqlitePath } from '../../src/db/provider.js'

export const SELLER_ID = 'seller-1'

export const paymentId = (n: number) => `01KB${String(n).padStart(22, '0')}`

/**
 * Rows past the first 100,000 carry only what the list pages and the status read (and NOT NULL)
 * need: a page's cost is the index walk, and narrow rows keep a million-row fill within seconds.
 */
const SLIM_AFTER = 100_000
const slimColumns = ['id', 'offerId', 'sellerId', 'state', 'buyerWalletAddressUrl', 'amount', 'assetCode', 'assetScale', 'incomingPaymentId', 'quoteId', 'redirectUrl', 'outgoingPaymentId', 'createdAt', 'updatedAt']

/** SQL for the row number `i`, per provider. */
interface Dialect {
  /** Turns the state's text into the column's type. */
  state: (text: string) => string
  padded: string
  /** 16 hex digits that differ per row (derived from i: cheaper than random bytes, and enough here). */
  hex: string
  now: string
  later: string
}

function insertSql(d: Dialect, numbers: string, slim: boolean): string {
  const state = `CASE WHEN i % 100 < 80 THEN 'COMPLETED' WHEN i % 100 < 86 THEN 'FAILED' WHEN i % 100 < 89 THEN 'REJECTED'
    WHEN i % 100 < 92 THEN 'EXPIRED' WHEN i % 100 < 97 THEN 'AWAITING_APPROVAL' ELSE 'PROCESSING' END`
  const paid = `(i % 100 < 80 OR i % 100 >= 97 OR (i % 100 < 86 AND i % 2 = 0))`
  const url = (kind: string) => `'https://wallet.example/rs/${kind}/' || ${d.hex}`
  const columns: Record<string, string> = {
    id: `'01KB' || ${d.padded}`,
    offerId: `'job-' || (((i % 20000) * 7919) % 20000)`,
    sellerId: `'${SELLER_ID}'`,
    state: d.state(state),
    buyerWalletAddressUrl: `'https://wallet.example/buyers/b' || (i % 5000)`,
    amount: `'' || (100 + (i % 50) * 250)`,
    assetCode: `'USD'`,
    assetScale: '2',
    requestFingerprint: `${d.hex} || ${d.hex}`,
    incomingPaymentId: url('incoming-payments'),
    incomingPaymentExpiresAt: d.later,
    quoteId: url('quotes'),
    debitAmount: `'' || (100 + (i % 50) * 250)`,
    debitAssetCode: `'USD'`,
    debitAssetScale: '2',
    receiveAmount: `'' || (100 + (i % 50) * 250)`,
    quoteExpiresAt: d.later,
    buyerAuthServer: `'https://wallet.example/auth'`,
    redirectUrl: `'https://wallet.example/interact/' || ${d.hex}`,
    continueUri: `'https://wallet.example/auth/continue/' || ${d.hex}`,
    continueToken: `'v1.' || ${d.hex} || '.' || ${d.hex} || ${d.hex}`,
    continueWaitSeconds: '5',
    grantRequestedAt: d.now,
    clientNonce: `'v1.' || ${d.hex}`,
    finishNonce: d.hex,
    interactRef: `CASE WHEN i % 100 BETWEEN 92 AND 96 THEN NULL ELSE ${d.hex} END`,
    accessToken: `CASE WHEN ${paid} THEN 'v1.' || ${d.hex} || ${d.hex} END`,
    outgoingPaymentId: `CASE WHEN ${paid} THEN ${url('outgoing-payments')} END`,
    outgoingPaymentJson: `CASE WHEN ${paid} THEN '{"id":"https://wallet.example/rs/outgoing-payments/' || ${d.hex} ||
      '","walletAddress":"https://wallet.example/buyers/b1","receiveAmount":{"value":"100","assetCode":"USD","assetScale":2},"debitAmount":{"value":"100","assetCode":"USD","assetScale":2},"sentAmount":{"value":"0","assetCode":"USD","assetScale":2},"metadata":{"pendingId":"01KB' || ${d.padded} || '"},"failed":false}' END`,
    sentAmount: `CASE WHEN ${paid} THEN '100' END`,
    receivedAmount: `CASE WHEN i % 100 < 80 THEN '100' WHEN ${paid} THEN '0' END`,
    nextCheckAt: `CASE WHEN i % 100 >= 97 THEN ${d.later} END`,
    checkAttempts: `CASE WHEN ${paid} THEN 1 ELSE 0 END`,
    failureCode: `CASE WHEN i % 100 BETWEEN 80 AND 85 THEN 'FUNDING_FAILED' WHEN i % 100 BETWEEN 86 AND 88 THEN 'GRANT_REJECTED' WHEN i % 100 BETWEEN 89 AND 91 THEN 'CONSENT_EXPIRED' END`,
    failureMessage: `CASE WHEN i % 100 BETWEEN 80 AND 91 THEN 'The payment could not be made' END`,
    createdAt: d.now,
    updatedAt: d.now,
    finishedAt: `CASE WHEN i % 100 < 92 THEN ${d.now} END`,
  }
  if (slim) {
    for (const column of Object.keys(columns)) if (!slimColumns.includes(column)) delete columns[column]
  }
  return `INSERT INTO "Payment" (${Object.keys(columns).map((c) => `"${c}"`).join(', ')}) SELECT ${Object.values(columns).join(',\n')} FROM ${numbers}`
}

/** Adds payments number `from` to `to` (inclusive), and the seller on the first call. */
export async function fillPayments(databaseUrl: string, from: number, to: number): Promise<void> {
  if (from <= SLIM_AFTER && to > SLIM_AFTER) {
    await fillPayments(databaseUrl, from, SLIM_AFTER)
    return fillPayments(databaseUrl, SLIM_AFTER + 1, to)
  }
  const slim = from > SLIM_AFTER
  const now = new Date()
  const later = new Date(now.getTime() + 86_400_000)
  if (databaseProviderOf(databaseUrl) === 'postgresql') {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      const ts = (date: Date) => `'${date.toISOString().replace('T', ' ').replace('Z', '')}'::timestamp`
      await client.query('BEGIN')
      if (from === 1) {
        await client.query(`INSERT INTO "Seller" (id, "walletAddressUrl", "keyId", "privateKeyPath", "createdAt", "updatedAt") VALUES ($1, 'https://wallet.example/seller', 'seller-key-1', 'seller.pem', now(), now())`, [SELLER_ID])
      }
      const dialect = { state: (text: string) => `(${text})::"PaymentState"`, padded: `lpad(i::text, 22, '0')`, hex: `lpad(to_hex(i), 8, '0') || lpad(to_hex((i::bigint * 2654435761) % 4294967296), 8, '0')`, now: ts(now), later: ts(later) }
      await client.query(insertSql(dialect, `generate_series(${from}, ${to}) AS n(i)`, slim))
      await client.query('COMMIT')
      await client.query('ANALYZE "Payment"')
    } finally {
      await client.end()
    }
    return
  }
  const database = new Database(sqlitePath(databaseUrl))
  try {
    database.pragma('synchronous = OFF') // a throwaway database
    const iso = (date: Date) => `'${date.toISOString().replace('Z', '+00:00')}'` // as Prisma's SQLite adapter stores DateTime
    database.transaction(() => {
      if (from === 1) {
        database.prepare(`INSERT INTO "Seller" (id, walletAddressUrl, keyId, privateKeyPath, createdAt, updatedAt) VALUES (?, 'https://wallet.example/seller', 'seller-key-1', 'seller.pem', ?, ?)`).run(SELLER_ID, now.toISOString(), now.toISOString())
      }
      const dialect = { state: (text: string) => text, padded: `printf('%022d', i)`, hex: `printf('%08x%08x', i, (i * 2654435761) % 4294967296)`, now: iso(now), later: iso(later) }
      database.prepare(`WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to}) ${insertSql(dialect, 'n', slim)}`).run()
    })()
    database.exec('ANALYZE')
  } finally {
    database.close()
  }
}
