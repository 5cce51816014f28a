// `GET /payments/:pendingId/status` and `GET /health` straight from node:http
// (src/http/direct-reads.ts): through a real HTTP server, their raw answers (status line, headers
// in order, body; only Date and the health answer's time aside), log lines and metrics match the
// Hono app's, and every request the direct path does not serve itself (errors included) goes to
// Hono unchanged.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.js'
import { serveReadsDirectly } from '../../src/http/direct-reads.js'
import { API_TOKEN, startTestService, type TestService } from '../harness.js'
import { expectRequestIdsMadeUpAlike, expectSameLogLineAndMetric, rawExchange, sendToBoth } from './raw-http.js'

const PAID = '01KD0000000000000000000001'
const UNSTARTED = '01KD0000000000000000000002'
let service: TestService
let honoUrl: string
let directUrl: string
let direct: ReturnType<typeof serveReadsDirectly>
const servers: http.Server[] = []

async function listen(listener: http.RequestListener) {
  const server = http.createServer(listener)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  service = await startTestService()
  await service.db.seller.create({ data: { id: 'seller-1', walletAddressUrl: 'https://wallet.example/seller', keyId: 'k1', privateKeyPath: 'k.pem' } })
  const base = { offerId: 'job-1', sellerId: 'seller-1', buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: '1000', assetCode: 'USD', assetScale: 2 }
  await service.db.payment.create({
    data: { ...base, id: PAID, state: 'COMPLETED', redirectUrl: 'https://wallet.example/i/1', incomingPaymentId: 'https://wallet.example/ip/1', quoteId: 'https://wallet.example/q/1', outgoingPaymentId: 'https://wallet.example/op/1' },
  })
  await service.db.payment.create({ data: { ...base, id: UNSTARTED } }) // its start has not finished: not found
  // Both with the test service's deps (its database, configuration, logger and metrics).
  const hono = getRequestListener(createApp(service.deps).fetch, { hostname: '127.0.0.1' })
  honoUrl = await listen(hono)
  direct = serveReadsDirectly(service.deps, hono, { sandbox: false })
  directUrl = await listen(direct)
})
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  await service?.close()
})

const token = `Authorization: Bearer ${API_TOKEN}`
const requestId = 'X-Request-Id: direct-reads-test'
const get = (path: string, headers: string[] = [token, requestId]) => (host: string) => [`GET ${path} HTTP/1.1`, `Host: ${host}`, ...headers, '', ''].join('\r\n')

const both = (request: (host: string) => string) => sendToBoth({ url: directUrl, served: direct.served }, honoUrl, request)

describe('the payment status straight from node:http', () => {
  it('answers a payment that exists as the Hono route does, byte for byte', async () => {
    const { raw, served } = await both(get(`/payments/${PAID}/status`))
    expect(served).toBe(true)
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(raw).toContain('\r\nx-request-id: direct-reads-test\r\n')
    expect(raw.split('\r\n\r\n')[1]).toBe(
      `{"pendingId":"${PAID}","offerId":"job-1","status":"paid","buyerWalletAddressUrl":"https://wallet.example/buyer","incomingPaymentId":"https://wallet.example/ip/1","outgoingPaymentId":"https://wallet.example/op/1","quoteId":"https://wallet.example/q/1"}`,
    )
  })

  const handedToHono: [string, (host: string) => string][] = [
    ['an unknown payment (404)', get('/payments/01KD0000000000000000000099/status')],
    ['a payment whose start has not finished (404)', get(`/payments/${UNSTARTED}/status`)],
    ['an id that is not one (400)', get('/payments/not_an_id!/status')],
    ['a percent-encoded id', get(`/payments/${PAID.slice(0, -1)}%31/status`)],
    ['no token (401)', get(`/payments/${PAID}/status`, [requestId])],
    ['a wrong token (401)', get(`/payments/${PAID}/status`, ['Authorization: Bearer wrong-token-0123456789abcdef', requestId])],
    ['two Authorization headers', get(`/payments/${PAID}/status`, [token, token, requestId])],
    ['a query string', get(`/payments/${PAID}/status?x=1`)],
    ['a trailing slash', get(`/payments/${PAID}/status/`)],
    ['a DELETE', (host) => get(`/payments/${PAID}/status`)(host).replace('GET', 'DELETE')],
    ['a body', (host) => get(`/payments/${PAID}/status`, [token, requestId, 'Content-Length: 2'])(host) + '{}'],
    ['a Host Hono checks', (host) => get(`/payments/${PAID}/status`)(host.replace('127.0.0.1', 'LOCALHOST'))],
  ]

  it.each(handedToHono)('hands %s to Hono', async (_name, request) => {
    const { raw, served } = await both(request)
    expect(served, raw).toBe(false)
  })

  const anyTime = (raw: string) => raw.replace(/"time":"[^"]+"/, '"time":"-"')

  it('answers the liveness probe as Hono does, without a token, for a sandbox service too', async () => {
    const { raw, served } = await sendToBoth({ url: directUrl, served: direct.served }, honoUrl, get('/health', [requestId]), anyTime)
    expect(served).toBe(true)
    expect(raw).toMatch(/\r\n\r\n\{"status":"ok","service":"payments","time":"\d{4}-\d\d-\d\dT[\d:.]+Z"\}$/)
    const sandboxHono = getRequestListener(createApp(service.deps, { sandbox: true }).fetch, { hostname: '127.0.0.1' })
    const sandboxDirect = serveReadsDirectly(service.deps, sandboxHono, { sandbox: true })
    const sandbox = await sendToBoth({ url: await listen(sandboxDirect), served: sandboxDirect.served }, await listen(sandboxHono), get('/health', [requestId]), anyTime)
    expect(sandbox.served).toBe(true)
    expect(sandbox.raw).toContain('"mode":"SANDBOX"}')
  })

  it.each([
    ['a query string', get('/health?x=1', [requestId])],
    ['a trailing slash', get('/health/', [requestId])],
    ['a POST', (host: string) => get('/health', [requestId, 'Content-Length: 0'])(host).replace('GET', 'POST')],
    ['a body', (host: string) => get('/health', [requestId, 'Content-Length: 2'])(host) + '{}'],
  ])('hands a health probe with %s to Hono', async (_name, request) => {
    const { raw, served } = await sendToBoth({ url: directUrl, served: direct.served }, honoUrl, request, anyTime)
    expect(served, raw).toBe(false)
  })

  it('counts a health probe in the same metric', async () => {
    const count = async () => Number(/\nhttp_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} (\d+)/.exec(await (await service.request('/metrics')).text())?.[1] ?? 0)
    const before = await count()
    expect((await sendToBoth({ url: directUrl, served: direct.served }, honoUrl, get('/health', [requestId]), anyTime)).served).toBe(true)
    expect(await count()).toBe(before + 2)
  })

  it('picks or makes the request id as Hono does', async () => {
    const insane = ['X-Request-Id: not sane!', 'X-Request-Id: a\r\nX-Request-Id: b', requestId.replace('test', 'x'.repeat(70))]
    await expectRequestIdsMadeUpAlike(directUrl, honoUrl, (host, id) => get(`/payments/${PAID}/status`, [token, id])(host), insane)
  })

  it('writes the same log line and observes the same metric', async () => {
    const path = `/payments/${PAID}/status`
    await expectSameLogLineAndMetric(service, { reqId: 'status-log-test', method: 'GET', route: '/payments/:pendingId/status', path }, async () =>
      (await both(get(path, [token, 'X-Request-Id: status-log-test']))).served)
  })

  it('leaves every request to Hono when CORS is configured', async () => {
    const deps = { ...service.deps, config: { ...service.deps.config, corsAllowedOrigins: ['https://shop.example'] } }
    const withCors = serveReadsDirectly(deps, getRequestListener(createApp(deps).fetch, { hostname: '127.0.0.1' }), { sandbox: false })
    const res = await fetch(`${await listen(withCors)}/payments/${PAID}/status`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    expect(res.status).toBe(200)
    expect(withCors.served()).toBe(0)
  })

  it('is what the service runs', async () => {
    const request = get(`/payments/${PAID}/status`)
    expect(await rawExchange(service.url, request(new URL(service.url).host))).toBe(await rawExchange(directUrl, request(new URL(directUrl).host)))
  })
})
