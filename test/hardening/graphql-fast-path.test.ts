// The GraphQL fast path (src/graphql/fast-path.ts) answers exactly what yoga answers: status,
// headers and body byte for byte, errors and masking included, for the operations it serves; and
// everything it does not serve (invalid documents, armor's limits, bad variables, GET, other media
// types, batches) falls through to yoga.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createYogaServer, maskErrorFor } from '../../src/graphql/yoga.js'
import { withFastPath } from '../../src/graphql/fast-path.js'
import { startTestService, type TestService } from '../harness.js'

let service: TestService
let yoga: ReturnType<typeof createYogaServer>
let fastFetch: ReturnType<typeof withFastPath>
let fallbacks = 0

const PAID = '01KB0000000000000000000001'
const FAILED = '01KB0000000000000000000002'
const UNSTARTED = '01KB0000000000000000000003'

beforeAll(async () => {
  service = await startTestService()
  // Built for the test service, as app.ts builds it.
  yoga = createYogaServer(service.deps)
  const countingYoga = new Proxy(yoga, {
    get: (target, prop) => (prop === 'fetch' ? (request: Request) => (fallbacks++, target.fetch(request)) : Reflect.get(target, prop, target)),
  })
  fastFetch = withFastPath(countingYoga, maskErrorFor(service.deps.logger), { deps: service.deps })
  const at = new Date('2026-11-29T10:00:00.000Z')
  await service.db.seller.create({ data: { id: 'seller-1', walletAddressUrl: 'https://wallet.example/seller', keyId: 'k1', privateKeyPath: 'k.pem' } })
  const base = { offerId: 'job-1', sellerId: 'seller-1', buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: '1000', assetCode: 'USD', assetScale: 2 }
  await service.db.payment.create({
    data: {
      ...base, id: PAID, state: 'COMPLETED', redirectUrl: 'https://wallet.example/interact/1', incomingPaymentId: 'https://wallet.example/ip/1',
      quoteId: 'https://wallet.example/q/1', debitAmount: '910', debitAssetCode: 'EUR', debitAssetScale: 2, receiveAmount: '1000', quoteExpiresAt: at,
      outgoingPaymentId: 'https://wallet.example/op/1', outgoingPaymentJson: '{"id":"https://wallet.example/op/1"}', sentAmount: '910', receivedAmount: '1000',
      checkAttempts: 2, lastCheckedAt: at, createdAt: at, finishedAt: at,
    },
  })
  await service.db.payment.create({
    data: { ...base, id: FAILED, offerId: 'job-2', state: 'FAILED', redirectUrl: 'https://wallet.example/interact/2', failureCode: 'FUNDING_FAILED', failureMessage: 'no funds', createdAt: at },
  })
  await service.db.payment.create({ data: { ...base, id: UNSTARTED, createdAt: at } })
})
afterAll(() => service?.close())

const PAYMENT_FIELDS = `pendingId offerId state status buyerWalletAddressUrl amount { value assetCode assetScale } redirectUrl incomingPaymentId
  quote { id debitAmount { value assetCode } receiveAmount { value } expiresAt } outgoingPaymentId outgoingPayment
  failure { code message } settlement { sentAmount { value } receivedAmount { value } partiallyReceived checkAttempts lastCheckedAt nextCheckAt }
  createdAt finishedAt`

/** Operations the fast path serves: reads, connections, typed mutation errors, GraphQL errors from resolvers. */
const served: [string, Record<string, unknown>][] = [
  ['a payment with every scalar field', { query: `{ payment(pendingId: "${PAID}") { ${PAYMENT_FIELDS} } }` }],
  ['a payment with relations (Prisma path)', { query: `{ payment(pendingId: "${FAILED}") { pendingId seller { id sellerId } cleanup { gaveUp } ${PAYMENT_FIELDS} } }` }],
  ['an unknown payment', { query: '{ payment(pendingId: "01KB0000000000000000000009") { pendingId } }' }],
  ['a payment whose start has not finished', { query: `{ payment(pendingId: "${UNSTARTED}") { pendingId } }` }],
  ['variables and an operation name among several', {
    query: 'query A { __typename } query ReadPayment($pendingId: String!) { payment(pendingId: $pendingId) { pendingId status } }',
    variables: { pendingId: PAID }, operationName: 'ReadPayment',
  }],
  ['a page of payments', { query: '{ payments(first: 1) { edges { cursor node { pendingId state } } pageInfo { hasNextPage endCursor } } }' }],
  ['a filtered page', { query: '{ payments(first: 5, filter: { status: failed }) { edges { node { pendingId failure { code } } } } }' }],
  ['an offer page with relations', { query: '{ offer(offerId: "job-1") { offerId payments(first: 5) { edges { node { pendingId seller { sellerId } } } } } }' }],
  ['a backward page', { query: '{ payments(last: 1) { edges { node { pendingId } } pageInfo { hasPreviousPage } } }' }],
  ['an invalid cursor (resolver GraphQL error)', { query: '{ payments(first: 1, after: "bogus") { edges { node { pendingId } } } }' }],
  ['an AppError from a resolver', { query: '{ offer(offerId: "") { offerId } }' }],
  ['too many node ids', { query: `{ nodes(ids: [${Array.from({ length: 101 }, (_, i) => `"${i}"`).join(',')}]) { id } }` }],
  ['a typed mutation error', { query: 'mutation { recheckPayment(pendingId: "01KB0000000000000000000009") { __typename ... on Error { code message } ... on AppError { details } } }' }],
  ['sellers and webhook events', { query: '{ sellers(first: 5) { edges { node { sellerId walletAddressUrl } } } webhookEvents(first: 5) { edges { node { eventId } } } }' }],
  ['null variables and operation name', { query: '{ __typename }', variables: null, operationName: null }],
]

/** Requests yoga must answer itself (the fast path hands them over untouched). */
const handedToYoga: [string, Record<string, unknown> | string][] = [
  ['a syntax error', { query: '{ payment(' }],
  ['a validation error', { query: '{ nope }' }],
  ['a missing variable', { query: 'query ($id: String!) { payment(pendingId: $id) { pendingId } }' }],
  ['a variable of the wrong type', { query: 'query ($id: String!) { payment(pendingId: $id) { pendingId } }', variables: { id: 5 } }],
  ['an unknown operation name', { query: '{ __typename }', operationName: 'Nope' }],
  ['too deep for armor', { query: `{ payment(pendingId: "x") { seller { payments { edges { node { seller { payments { edges { node { seller { id } } } } } } } } } } }` }],
  ["too many aliases for armor", { query: `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: payment(pendingId: "x") { pendingId }`).join(" ")} }` }],
  ['a subscription', { query: 'subscription { paymentUpdated(pendingId: "x") { state } }' }],
  ['a batch', '[{"query":"{ __typename }"}]'],
  ['extensions', { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } }],
  ['not JSON', '{"query": '],
]

const accepts = [undefined, '*/*', 'application/json', 'application/graphql-response+json', 'application/graphql-response+json, application/json']

function post(body: Record<string, unknown> | string, accept?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (accept) headers.accept = accept
  return new Request('http://localhost/graphql', { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

async function snapshot(response: Response) {
  const headers = [...response.headers].map(([name, value]) => [name.toLowerCase(), value]).sort()
  return { status: response.status, headers, body: await response.text() }
}

describe('the GraphQL fast path', () => {
  it.each(served)('answers %s exactly as yoga does, without yoga', async (_name, body) => {
    for (const accept of accepts) {
      const before = fallbacks
      const fast = await snapshot(await fastFetch(post(body, accept)))
      expect(fallbacks, 'served by the fast path').toBe(before)
      expect(fast).toEqual(await snapshot(await yoga.fetch(post(body, accept))))
    }
  })

  it.each(handedToYoga)('hands %s to yoga', async (_name, body) => {
    for (const accept of accepts) {
      const before = fallbacks
      const fast = await snapshot(await fastFetch(post(body, accept)))
      expect(fallbacks, 'answered by yoga').toBe(before + 1)
      expect(fast).toEqual(await snapshot(await yoga.fetch(post(body, accept))))
    }
  })

  it('keeps nothing for operation names a document does not define, and at most 200 compiled operations in all', async () => {
    const before = fastFetch.compiledOperations()
    for (let i = 0; i < 50; i++) {
      const res = await fastFetch(post({ query: '{ __typename }', operationName: `made-up-${i}-${'x'.repeat(1000)}` }))
      expect(res.status).toBe(400)
    }
    expect(fastFetch.compiledOperations()).toBe(before)
    const names = Array.from({ length: 250 }, (_, i) => `op${i}`)
    const document = names.map((name) => `query ${name} { __typename }`).join('\n')
    for (const name of names) {
      const res = await fastFetch(post({ query: document, operationName: name }))
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } })
      expect(fastFetch.compiledOperations()).toBeLessThanOrEqual(200)
    }
  })

  it('keeps armor: a document over its limits is refused on every request, however often it is sent', async () => {
    const tooDeep = handedToYoga.find(([name]) => name === 'too deep for armor')![1]
    for (let i = 0; i < 3; i++) {
      const res = await fastFetch(post(tooDeep))
      expect(await res.json()).toMatchObject({ errors: [{ message: expect.stringMatching(/depth/i) }] })
    }
  })

  it('hands GET, other media types and unusual Accept headers to yoga', async () => {
    const requests = [
      new Request('http://localhost/graphql?query=%7B__typename%7D', { method: 'GET' }),
      new Request('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/graphql' }, body: '{ __typename }' }),
      post({ query: '{ __typename }' }, 'text/event-stream'),
      post({ query: '{ __typename }' }, 'text/html'),
    ]
    for (const request of requests) {
      const before = fallbacks
      await fastFetch(request)
      expect(fallbacks).toBe(before + 1)
    }
  })

  it('answers through the service with the same bodies (status read as the marketplace polls it)', async () => {
    const res = await service.request('/graphql', { method: 'POST', json: { query: `{ payment(pendingId: "${PAID}") { pendingId status quote { id } } }` } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(`{"data":{"payment":{"pendingId":"${PAID}","status":"paid","quote":{"id":"https://wallet.example/q/1"}}}}`)
  })
})
