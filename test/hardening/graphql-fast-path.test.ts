// The GraphQL fast path (src/graphql/fast-path.ts) answers exactly what yoga answers: status,
// headers and body byte for byte, errors and masking included, for the operations it serves; and
// everything it does not serve (invalid documents, armor's limits, bad variables, GET, other media
// types, batches) falls through to yoga.
//
// The direct path (src/graphql/direct-http.ts) serves those operations from node:http: through a
// real HTTP server, its raw answers (status line, headers in order, body; only Date aside), its log
// lines and metrics match the Hono app's, and everything it does not serve falls through to Hono.
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, loadGraphQLOnce } from '../../src/app.js'
import { serveGraphQLDirectly } from '../../src/graphql/direct-http.js'
import { createYogaServer, maskErrorFor } from '../../src/graphql/yoga.js'
import { withFastPath } from '../../src/graphql/fast-path.js'
import { API_TOKEN, startTestService, type TestService, waitFor } from '../harness.js'
import { expectRequestIdsMadeUpAlike, expectSameLogLineAndMetric, rawExchange, sendToBoth } from './raw-http.js'

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

function rawPost(host: string, body: string | Buffer, headers: string[] = []) {
  const bytes = Buffer.from(body)
  return Buffer.concat([
    Buffer.from(['POST /graphql HTTP/1.1', `Host: ${host}`, ...headers, `Content-Length: ${bytes.length}`, '', ''].join('\r\n')),
    bytes,
  ]).toString('latin1')
}

describe('the direct path through a real HTTP server', () => {
  let honoUrl: string
  let directUrl: string
  let direct: ReturnType<typeof serveGraphQLDirectly>
  const servers: http.Server[] = []
  const listen = async (listener: http.RequestListener) => {
    const server = http.createServer(listener)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  beforeAll(async () => {
    // Both with the test service's deps (its database, configuration, logger and metrics).
    const graphql = loadGraphQLOnce(service.deps)
    const hono = getRequestListener(createApp(service.deps, { graphql }).fetch, { hostname: '127.0.0.1' })
    honoUrl = await listen(hono)
    direct = serveGraphQLDirectly(service.deps, hono, graphql)
    await graphql()
    directUrl = await listen(direct)
  })
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  const token = `Authorization: Bearer ${API_TOKEN}`
  const json = 'Content-Type: application/json'
  const requestId = 'X-Request-Id: fast-path-test'

  const both = (request: (host: string) => string) => sendToBoth({ url: directUrl, served: direct.served }, honoUrl, request)

  it.each(served)('serves %s as the Hono app does, byte for byte', async (_name, body) => {
    for (const accept of accepts) {
      const headers = [token, json, requestId, ...(accept ? [`Accept: ${accept}`] : [])]
      const { raw, served } = await both((host) => rawPost(host, JSON.stringify(body), headers))
      expect(served, raw).toBe(true)
      expect(raw).toContain('\r\nx-request-id: fast-path-test\r\n')
    }
  })

  // (A subscription may be answered as an event stream, which rawExchange does not read to its end.)
  it.each(handedToYoga.filter(([name]) => name !== 'a subscription'))('hands %s to Hono, body and all', async (_name, body) => {
    for (const accept of accepts) {
      const headers = [token, json, requestId, ...(accept ? [`Accept: ${accept}`] : [])]
      const { raw, served } = await both((host) => rawPost(host, typeof body === 'string' ? body : JSON.stringify(body), headers))
      expect(served, raw).toBe(false)
      expect(raw).toMatch(/^HTTP\/1\.1 (200|400) /)
    }
  })

  const query = JSON.stringify({ query: `{ payment(pendingId: "${PAID}") { pendingId status } }` })
  const handedToHono: [string, (host: string) => string][] = [
    ['no token', (host) => rawPost(host, query, [json, requestId])],
    ['a wrong token', (host) => rawPost(host, query, ['Authorization: Bearer wrong-token-0123456789abcdef', json, requestId])],
    ['two Authorization headers', (host) => rawPost(host, query, [token, token, json, requestId])],
    ['two Content-Type headers', (host) => rawPost(host, query, [token, json, json, requestId])],
    ['text/plain', (host) => rawPost(host, query, [token, 'Content-Type: text/plain', requestId])],
    ['a Content-Encoding', (host) => rawPost(host, query, [token, json, 'Content-Encoding: gzip', requestId])],
    ['a query string', (host) => rawPost(host, query, [token, json, requestId]).replace('/graphql', '/graphql?x=1')],
    ['another path', (host) => rawPost(host, query, [token, json, requestId]).replace('/graphql', '/graphql/')],
    ['Accept: text/html', (host) => rawPost(host, query, [token, json, requestId, 'Accept: text/html'])],
    ['Accept: constructor', (host) => rawPost(host, query, [token, json, requestId, 'Accept: constructor'])],
    ['a Host Hono checks', (host) => rawPost(host.replace('127.0.0.1', 'LOCALHOST'), query, [token, json, requestId])],
    ['a body over the limit', (host) => rawPost(host, query, [token, json, requestId]).replace(/Content-Length: \d+/, `Content-Length: ${service.deps.config.bodyLimitBytes + 1}`)],
    ['a chunked body', (host) => `POST /graphql HTTP/1.1\r\nHost: ${host}\r\n${token}\r\n${json}\r\n${requestId}\r\nTransfer-Encoding: chunked\r\n\r\n${query.length.toString(16)}\r\n${query}\r\n0\r\n\r\n`],
    ['a GET', (host) => `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: ${host}\r\n${token}\r\n${requestId}\r\n\r\n`],
  ]

  it.each(handedToHono)('hands %s to Hono before reading the body', async (_name, request) => {
    const { raw, served } = await both(request)
    expect(served, raw).toBe(false)
  })

  it.each([
    ['an empty body', ''],
    ['a UTF-8 byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(query)])],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from(query.slice(0, -3)), Buffer.from([0xff, 0xfe]), Buffer.from(query.slice(-3))])],
  ])('reads %s as Hono does', async (_name, body) => {
    await both((host) => rawPost(host, body, [token, json, requestId]))
  })

  it('serves Content-Type with charset utf-8 and picks or makes the request id as Hono does', async () => {
    expect((await both((host) => rawPost(host, query, [token, 'Content-Type: application/json; charset=UTF-8', requestId]))).served).toBe(true)
    const insane = ['X-Request-Id: not sane!', 'X-Request-Id: a\r\nX-Request-Id: b', requestId.replace('test', 'x'.repeat(70))]
    await expectRequestIdsMadeUpAlike(directUrl, honoUrl, (host, id) => rawPost(host, query, [token, json, id]), insane)
  })

  it('writes the same log line and observes the same metric', async () => {
    await expectSameLogLineAndMetric(service, { reqId: 'log-line-test', method: 'POST', route: '/graphql', path: '/graphql' }, async () =>
      (await both((host) => rawPost(host, query, [token, json, 'X-Request-Id: log-line-test']))).served)
  })

  it('leaves every request to Hono when CORS is configured (its headers go on every answer)', async () => {
    const deps = { ...service.deps, config: { ...service.deps.config, corsAllowedOrigins: ['https://shop.example'] } }
    const graphql = loadGraphQLOnce(deps)
    const withCors = serveGraphQLDirectly(deps, getRequestListener(createApp(deps, { graphql }).fetch, { hostname: '127.0.0.1' }), graphql)
    await graphql()
    const withCorsUrl = await listen(withCors)
    const post = (url: string) => fetch(`${url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, body: query })
    const before = direct.served()
    expect((await post(directUrl)).status).toBe(200)
    expect(direct.served()).toBe(before + 1) // the same request without CORS: served directly
    const res = await post(withCorsUrl)
    expect(res.status).toBe(200)
    expect(withCors.served()).toBe(0)
  })

  it('survives a client that leaves before its body arrived', async () => {
    const before = direct.served()
    const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(directUrl).port) })
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(rawPost(new URL(directUrl).host, query, [token, json]).replace(/Content-Length: \d+/, 'Content-Length: 1000'))
    await new Promise((resolve) => setTimeout(resolve, 50))
    socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(direct.served()).toBe(before)
    expect((await both((host) => rawPost(host, query, [token, json, requestId]))).served).toBe(true)
  })

  it('a client that half-closes mid-body on the Hono path is one info line, never an error with a stack', async () => {
    const mark = service.logs.length
    const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(service.url).port) })
    await new Promise((resolve) => socket.once('connect', resolve))
    // An upper-case Host is not one the direct path takes as it is: Hono (and yoga) read this body.
    const head = ['POST /graphql HTTP/1.1', `Host: ${new URL(service.url).host.toUpperCase().replace('127.0.0.1', 'LOCALHOST')}`, token, json, 'X-Request-Id: half-close-test', 'Content-Length: 1000', '', ''].join('\r\n')
    socket.write(`${head}{"query":"{ __typename`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    socket.end() // half-close: the body never completes
    await waitFor(() => service.logs.slice(mark).some((line) => line.includes('half-close-test')))
    const lines = service.logs.slice(mark).map((line) => JSON.parse(line)).filter((line) => line.reqId === 'half-close-test')
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [30, 'client closed the connection before its request body arrived'],
      [30, 'request'],
    ])
    expect(JSON.stringify(lines)).not.toContain('stack')
    socket.destroy()
  })

  it('is what the service runs', async () => {
    const viaService = await rawExchange(service.url, rawPost(new URL(service.url).host, query, [token, json, requestId]))
    const viaDirect = await rawExchange(directUrl, rawPost(new URL(directUrl).host, query, [token, json, requestId]))
    expect(viaService).toBe(viaDirect)
  })
})
