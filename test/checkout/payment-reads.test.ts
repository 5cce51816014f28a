// The hot reads (src/payments/queries.ts) are prepared statements on the driver, outside Prisma:
// their columns must follow prisma/models.prisma, their answers must be Prisma's own, and they
// must only ever see committed rows.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { FieldSet } from '../../src/graphql/selection.js'
import { SUMMARY_CONNECTION, SUMMARY_FIELDS } from '../../src/payments/schema.js'
import {
  findPaymentSummary,
  findStartedPayment,
  listPayments,
  paymentSummaryColumns,
  paymentWhere,
  readPaymentPage,
  requirePaymentSummary,
} from '../../src/payments/queries.js'
import { columnList } from '../../src/db.js'
import { paymentColumns } from '../../src/payments/payment-rows.js'
import { startTestService, type TestService } from '../harness.js'

let service: TestService
const id = (n: number) => `01KB${String(n).padStart(22, '0')}`

beforeAll(async () => {
  service = await startTestService()
  await service.db.seller.create({ data: { id: 'seller-1', walletAddressUrl: 'https://wallet.example/s1', keyId: 'k', privateKeyPath: 'k.pem' } })
  await service.db.seller.create({ data: { id: 'seller-2', walletAddressUrl: 'https://wallet.example/s2', keyId: 'k', privateKeyPath: 'k.pem' } })
  const states = ['COMPLETED', 'FAILED', 'AWAITING_APPROVAL', 'PROCESSING', 'EXPIRED'] as const
  for (let n = 1; n <= 12; n++) {
    const at = new Date(Date.UTC(2026, 10, 29, 10, n, 0, n))
    await service.db.payment.create({
      data: {
        id: id(n), offerId: `job-${n % 3}`, sellerId: n % 4 ? 'seller-1' : 'seller-2', state: states[n % states.length],
        buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: String(n * 100), assetCode: 'USD', assetScale: 2,
        // every fourth payment's start has not finished: never shown
        redirectUrl: n % 4 === 3 ? null : `https://wallet.example/interact/${n}`,
        ...(n === 1
          ? {
              returnUrl: 'https://shop.example/back', idempotencyKey: 'key-1', requestFingerprint: 'f', incomingPaymentId: 'https://w/ip', incomingPaymentExpiresAt: at,
              quoteId: 'https://w/q', debitAmount: '91', debitAssetCode: 'EUR', debitAssetScale: 2, receiveAmount: '100', quoteExpiresAt: at,
              buyerAuthServer: 'https://w/auth', continueUri: 'https://w/c', continueToken: 'v1.a.b.c', continueWaitSeconds: 5, grantRequestedAt: at,
              clientNonce: 'n', finishNonce: 'fn', finishSecretHash: 'h', interactRef: 'ir', accessToken: 't', accessTokenManageUrl: 'https://w/m',
              accessTokenExpiresAt: at, outgoingPaymentId: 'https://w/op', outgoingPaymentJson: '{}', sentAmount: '91', receivedAmount: '100',
              leaseUntil: at, checkAttempts: 3, lastCheckedAt: at, nextCheckAt: at, failureCode: 'X', failureMessage: 'y', finishedAt: at, eventCount: 2,
            }
          : {}),
        createdAt: at,
      },
    })
  }
})
afterAll(() => service?.close())

describe('the prepared payment reads', () => {
  it('read every column prisma/models.prisma declares for Payment, and the summary only names real columns', () => {
    const models = fs.readFileSync(path.join(import.meta.dirname, '../../prisma/models.prisma'), 'utf8')
    const modelNames = [...models.matchAll(/^model (\w+)/gm)].map((m) => m[1])
    const block = /^model Payment \{([\s\S]*?)^\}/m.exec(models)![1]
    const declared = [...block.matchAll(/^\s+(\w+)\s+(\w+)(\[\])?\??(\s|$)/gm)]
      .filter(([, , type, list]) => !list && !modelNames.includes(type))
      .map(([, name]) => name)
    expect(paymentColumns).toEqual(declared)
    for (const column of paymentSummaryColumns) expect(declared).toContain(column)
  })

  it('answer a whole payment exactly as Prisma does, and nothing for one whose start has not finished', async () => {
    for (let n = 1; n <= 12; n++) {
      expect(await findStartedPayment(service.deps, id(n))).toEqual(await service.db.payment.findFirst({ where: { id: id(n), redirectUrl: { not: null } } }))
    }
    expect(await findStartedPayment(service.deps, id(99))).toBeNull()
  })

  it('answer the status summary as Prisma does', async () => {
    const select = Object.fromEntries(paymentSummaryColumns.map((c) => [c, true]))
    expect(await requirePaymentSummary(service.deps, id(1))).toEqual(await service.db.payment.findUnique({ where: { id: id(1) }, select }))
    await expect(requirePaymentSummary(service.deps, id(3))).rejects.toMatchObject({ code: 'PAYMENT_NOT_FOUND' })
  })

  it('page as Prisma does, for every filter and cursor', async () => {
    const filters = [{}, { offerId: 'job-1' }, { sellerId: 'seller-2' }, { status: 'failed' as const }, { states: ['COMPLETED' as const, 'PROCESSING' as const] }, { states: [] }]
    for (const filter of filters) {
      for (const after of [undefined, id(2), id(3), id(7)]) {
        const prisma = await service.db.payment.findMany({ where: { ...paymentWhere(filter), ...(after ? { id: { gt: after } } : {}) }, orderBy: { id: 'asc' }, take: 3 })
        expect(await readPaymentPage(service.deps, filter, { after, take: 3 }, paymentColumns)).toEqual(prisma)
      }
    }
    // A cursor that names no payment gives nothing, as Prisma's cursors do.
    expect(await readPaymentPage(service.deps, {}, { after: id(0), afterMustExist: true, take: 3 }, paymentColumns)).toEqual([])
    expect((await listPayments(service.deps, {}, { limit: 2 })).nextCursor).toBe(id(2))
  })

  it('see only committed rows, without waiting for a transaction that is open', async () => {
    const before = (await requirePaymentSummary(service.deps, id(2))).state
    expect(before).not.toBe('COMPLETED')
    await service.db.$transaction(async (tx) => {
      await tx.payment.update({ where: { id: id(2) }, data: { state: 'COMPLETED' } })
      await tx.payment.create({
        data: { id: id(50), offerId: 'job-9', sellerId: 'seller-1', buyerWalletAddressUrl: 'b', amount: '1', assetCode: 'USD', assetScale: 2, redirectUrl: 'https://r' },
      })
      expect((await requirePaymentSummary(service.deps, id(2))).state).toBe(before)
      expect(await findStartedPayment(service.deps, id(50))).toBeNull()
      expect(await readPaymentPage(service.deps, { offerId: 'job-9' }, { take: 5 }, ['id'])).toEqual([])
    })
    expect((await requirePaymentSummary(service.deps, id(2))).state).toBe('COMPLETED')
    expect(await findStartedPayment(service.deps, id(50))).not.toBeNull()
  })
})

describe('the GraphQL payment query', () => {
  const selection = (fields: FieldSet): string =>
    Object.entries(fields)
      .map(([name, sub]) => (sub === true ? name : `${name} { ${selection(sub)} }`))
      .join(' ')
  // A summary row that throws when a resolver reads any other column, whatever the data.
  const summaryColumns: readonly string[] = paymentSummaryColumns
  const guarded = (row: object) =>
    new Proxy(row, {
      get(target, key, receiver) {
        if (typeof key === 'string' && key !== 'then' && !summaryColumns.includes(key)) throw new Error(`a field read ${key}, which the summary does not hold`)
        return Reflect.get(target, key, receiver)
      },
    })
  /** The answer to `query`, and the SQL of the reads it made (summary rows guarded). */
  const run = async (query: string, variables?: Record<string, unknown>, via: 'POST' | 'GET' = 'POST') => {
    const readRows = service.deps.db.readRows.bind(service.deps.db)
    const read = vi.spyOn(service.deps.db, 'readRows').mockImplementation(async (sql, params) => {
      const rows = await readRows<object>(sql, params)
      return (sql.includes(`SELECT ${columnList(summaryColumns)} FROM "Payment"`) ? rows.map(guarded) : rows) as never
    })
    try {
      // POST takes the fast path (graphql-jit); GET goes through yoga (graphql-js).
      const { data, errors } =
        via === 'POST'
          ? await service.graphql(query, variables)
          : await (await service.request(`/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/json' } })).json()
      expect(errors).toBeUndefined()
      return { data, sql: read.mock.calls.map(([sql]) => sql) }
    } finally {
      read.mockRestore()
    }
  }
  const ask = async (fields: string, n: number, fragments = '') => {
    const { data, sql } = await run(`query P($id: String!) { payment(pendingId: $id) { ${fields} } } ${fragments}`, { id: id(n) })
    return { payment: data.payment, sql }
  }
  it('answers every field SUMMARY_FIELDS names from the summary columns exactly as from the whole row', async () => {
    const fields = selection(SUMMARY_FIELDS)
    const summarySql: string[] = []
    expect(fields).toContain('quote { __typename id }')
    for (let n = 1; n <= 12; n++) {
      const summary = await ask(fields, n)
      const whole = await ask(`${fields} redirectUrl`, n) // redirectUrl is not in the summary: the whole row is read
      expect(summary.sql).toHaveLength(1)
      expect(whole.sql).toHaveLength(1)
      expect(summary.sql[0]).not.toBe(whole.sql[0])
      summarySql.push(summary.sql[0])
      if (whole.payment === null) {
        expect(summary.payment).toBeNull()
        continue
      }
      const { redirectUrl, ...rest } = whole.payment
      expect(redirectUrl).toMatch(/^https:/)
      expect(summary.payment).toEqual(rest)
    }
    expect((await ask(fields, 1)).payment.quote).toEqual({ __typename: 'PaymentQuote', id: 'https://w/q' })
    // The summary read is the one the REST status uses.
    const read = vi.spyOn(service.deps.db, 'readRows')
    await findPaymentSummary(service.deps, id(1))
    expect(summarySql[0]).toBe(read.mock.calls[0][0])
    read.mockRestore()
  })

  it('pages the summary columns when the page asks for SUMMARY_FIELDS only, with the same answers as whole rows', async () => {
    // The whole SUMMARY_CONNECTION, and the same with one more node field (whole rows).
    const page = selection(SUMMARY_CONNECTION)
    expect(page).toContain(`node { ${selection(SUMMARY_FIELDS)} }`)
    const wider = page.replace(`node { ${selection(SUMMARY_FIELDS)} }`, `node { ${selection(SUMMARY_FIELDS)} redirectUrl }`)
    const after = Buffer.from(`GPC:S:${id(2)}`).toString('base64')
    const roots = ['payments(first: 4)', `payments(first: 3, after: "${after}")`, 'payments(first: 5, filter: { states: [COMPLETED, FAILED, PROCESSING] })', 'offer(offerId: "job-1") { payments(first: 5)']
    for (const [root, via] of [...roots.map((root) => [root, 'POST'] as const), [roots[2], 'GET'] as const]) {
      const close = root.startsWith('offer') ? ' }' : ''
      const summary = await run(`{ ${root} { ${page} }${close} }`, undefined, via)
      const whole = await run(`{ ${root} { ${wider} }${close} }`, undefined, via)
      expect(summary.sql[0]).toContain(`SELECT ${columnList(summaryColumns)} FROM "Payment"`)
      expect(whole.sql[0]).not.toBe(summary.sql[0])
      const connection = (data: any) => data.payments ?? data.offer.payments
      const wholeEdges = connection(whole.data).edges.map(({ node: { redirectUrl: _redirectUrl, ...node }, ...edge }: any) => ({ ...edge, node }))
      expect(wholeEdges.length).toBeGreaterThan(1)
      expect(connection(summary.data).edges).toEqual(wholeEdges)
      expect(connection(summary.data).pageInfo).toEqual(connection(whole.data).pageInfo)
    }
  })

  it('reads the summary through fragments, and the whole row for any other field or a directive', async () => {
    const summary = (await ask('pendingId status', 1)).sql[0]
    expect((await ask('...P', 1, 'fragment P on Payment { state quote { ... on PaymentQuote { id } } }')).sql[0]).toBe(summary)
    for (const [fields, fragments] of [
      ['pendingId amount { value }', ''],
      ['quote { id debitAmount { value } }', ''],
      ['pendingId @include(if: true)', ''],
      ['...P', 'fragment P on Payment { failure { code } }'],
    ]) {
      expect((await ask(fields, 1, fragments)).sql[0], fields + fragments).not.toBe(summary)
    }
  })
})
