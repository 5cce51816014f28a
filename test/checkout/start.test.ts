// Starting a checkout with bad input, retries, and an unwell wallet.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, SELLER_ID, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterEach(() => world.sandbox.faults.clear())
afterAll(() => world.close())

async function expectNothingChanged<T>(action: () => Promise<T>): Promise<T> {
  const payments = await world.service.db.payment.count()
  const counts = world.sandbox.counts()
  const result = await action()
  expect(await world.service.db.payment.count()).toBe(payments)
  expect(world.sandbox.counts().grants).toBe(counts.grants)
  return result
}

describe('bad input', () => {
  it.each([
    ['a decimal', '1.5'],
    ['a negative', '-100'],
    ['zero', '0'],
    ['a word', 'abc'],
    ['a number instead of a string', 100],
    ['more than 2^64-1', '18446744073709551616'],
    ['an exponent', '1e3'],
    ['empty', ''],
  ])('refuses %s as amount with 400 INVALID_AMOUNT', async (_name, amount) => {
    const res = await expectNothingChanged(() => world.start({ amount }))
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body).toMatchObject({ code: 'INVALID_AMOUNT', details: { field: 'amount' } })
    expect(body.error).toMatch(/^amount /)
  })

  it('accepts the largest amount, 2^64-1, as an exact string', async () => {
    const res = await world.start({ amount: '18446744073709551615' })
    expect(res.status).toBe(200)
    const row = await world.service.db.payment.findUniqueOrThrow({ where: { id: (await res.json()).pendingId } })
    expect(row.amount).toBe('18446744073709551615')
  })

  it('refuses missing fields, an unknown seller and a non-https buyer wallet', async () => {
    const missing = await expectNothingChanged(() => world.service.request('/offers/1/quotes/start', { method: 'POST', json: { amount: '100' } }))
    expect(missing.status).toBe(400)
    expect((await missing.json()).details.fields).toHaveProperty('sellerId')

    const unknown = await expectNothingChanged(() => world.start({ sellerId: 'nobody' }))
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: 'Seller not found', code: 'SELLER_NOT_FOUND', details: { sellerId: 'nobody' } })

    const ftp = await expectNothingChanged(() => world.start({ buyerWalletAddressUrl: 'ftp://wallet.example/bob' }))
    expect(ftp.status).toBe(400)
    expect((await ftp.json()).code).toBe('INVALID_WALLET_ADDRESS')

    const malformed = await world.service.request('/offers/1/quotes/start', { method: 'POST', body: '{"amount":', headers: { 'content-type': 'application/json' } })
    expect(malformed.status).toBe(400)
  })

  it('requires the API token', async () => {
    const res = await world.service.request('/offers/1/quotes/start', { method: 'POST', json: {}, token: null })
    expect(res.status).toBe(401)
  })
})

describe('idempotency', () => {
  it('a retried start with the same key returns the same payment and makes nothing new', async () => {
    const headers = { 'idempotency-key': 'order-77-attempt' }
    const first = await (await world.start({ amount: '700' }, { offerId: '77', headers })).json()
    const counts = world.sandbox.counts()
    const again = await world.start({ amount: '700' }, { offerId: '77', headers })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(first)
    expect(world.sandbox.counts()).toEqual(counts)
  })

  it('concurrent retries with one key create one payment', async () => {
    const headers = { 'idempotency-key': 'order-78-concurrent' }
    const counts = world.sandbox.counts()
    const answers = await Promise.all(Array.from({ length: 5 }, () => world.start({ amount: '800' }, { offerId: '78', headers })))
    const bodies = await Promise.all(answers.map((r) => r.json()))
    const succeeded = bodies.filter((_, i) => answers[i].status === 200)
    expect(succeeded.length).toBeGreaterThanOrEqual(1)
    expect(new Set(succeeded.map((b) => b.pendingId)).size).toBe(1)
    // The others were told to retry while the first was still talking to the wallets.
    for (const [i, res] of answers.entries()) if (res.status !== 200) expect([409]).toContain(res.status), expect(bodies[i].code).toBe('PAYMENT_NOT_FINISHABLE')
    expect(world.sandbox.counts().incomingPayments - counts.incomingPayments).toBe(1)
    // One interactive grant; the incoming-payment and quote tokens come from the cache.
    expect(world.sandbox.counts().grants - counts.grants).toBe(1)
    expect(await world.service.db.payment.count({ where: { idempotencyKey: 'order-78-concurrent' } })).toBe(1)
  })

  it('the same key with different parameters is refused with 422', async () => {
    const headers = { 'idempotency-key': 'order-79' }
    expect((await world.start({ amount: '900' }, { offerId: '79', headers })).status).toBe(200)
    const res = await expectNothingChanged(() => world.start({ amount: '901' }, { offerId: '79', headers }))
    expect(res.status).toBe(422)
    expect((await res.json()).code).toBe('IDEMPOTENCY_KEY_REUSED')
  })

  it('a start that died half-way does not hold its key forever', async () => {
    // What a crash between creating the row and receiving the grant leaves behind.
    await world.service.db.payment.create({
      data: {
        id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
        offerId: '81',
        sellerId: SELLER_ID,
        buyerWalletAddressUrl: world.buyer,
        amount: '100',
        assetCode: 'USD',
        assetScale: 2,
        idempotencyKey: 'order-81',
        createdAt: new Date(Date.now() - 5 * 60_000),
      },
    })
    const res = await world.start({}, { offerId: '81', headers: { 'idempotency-key': 'order-81' } })
    expect(res.status).toBe(200)
    expect((await res.json()).pendingId).not.toBe('01ARZ3NDEKTSV4RRFFQ69G5FAV')
  })

  it('works over GraphQL too', async () => {
    const START = `mutation ($input: StartCheckoutInput!) { startCheckout(input: $input) { ... on StartCheckoutPayload { payment { pendingId } } ... on Error { code } } }`
    const input = { offerId: 'g-80', sellerId: SELLER_ID, buyerWalletAddressUrl: world.buyer, amount: '100', idempotencyKey: 'gql-80' }
    const a = await world.service.graphql(START, { input })
    const b = await world.service.graphql(START, { input })
    expect(b.data.startCheckout.payment.pendingId).toBe(a.data.startCheckout.payment.pendingId)
    const c = await world.service.graphql(START, { input: { ...input, amount: '101' } })
    expect(c.data.startCheckout.code).toBe('IDEMPOTENCY_KEY_REUSED')
  })
})

describe('an unwell wallet', () => {
  it.each([
    ['answers 503 on quotes', { path: '/rs/quotes', method: 'POST', status: 503 }, 502, 'WALLET_REFUSED'],
    ['hangs on quotes', { path: '/rs/quotes', method: 'POST', hang: true }, 504, 'WALLET_TIMEOUT'],
    ['drops the connection on grants', { path: '/auth', method: 'POST', drop: true }, 502, 'WALLET_UNREACHABLE'],
  ])('%s: a clear gateway error, no payment left behind', async (_name, fault, status, code) => {
    world.sandbox.faults.add(fault as never)
    const res = await world.start({}, { offerId: `fault-${code}` })
    expect(res.status).toBe(status)
    const body = await res.json()
    expect(body.code).toBe(code)
    expect(JSON.stringify(body)).not.toMatch(/stack|at .*\.ts/)
    expect(await world.service.db.payment.count({ where: { offerId: `fault-${code}` } })).toBe(0)
  })

  it('latency is tolerated within the timeout', async () => {
    world.sandbox.faults.add({ path: '/rs/quotes', method: 'POST', latencyMs: 300 })
    expect((await world.start({}, { offerId: 'slow' })).status).toBe(200)
  })

  it('a wallet that is down is a 502', async () => {
    const res = await world.start({ buyerWalletAddressUrl: 'https://localhost:1/nobody' })
    expect(res.status).toBe(502)
    expect((await res.json()).code).toBe('WALLET_UNREACHABLE')
  })

  it('a 5xx while creating the outgoing payment leaves the payment to be resumed, then it completes', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'fault-finish')
    const finishUrl = await world.approve(redirectUrl)
    world.sandbox.faults.add({ path: '/rs/outgoing-payments', method: 'POST', status: 500, times: 1 })
    const res = await fetch(finishUrl)
    expect(res.status).toBe(502)
    expect((await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })).state).toBe('FINISHING')
    // The settlement worker resumes it once the claim's lease runs out; recheckPayment does it now.
    await world.service.db.payment.update({ where: { id: pendingId }, data: { leaseUntil: new Date(0) } })
    await expect.poll(async () => (await (await world.service.request(`/payments/${pendingId}/status`)).json()).status, { timeout: 10_000 }).toBe('paid')
    expect(world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
  })
})
