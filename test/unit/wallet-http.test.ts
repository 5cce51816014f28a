// The service's HTTP client for Open Payments calls (src/open-payments/wallet-http.ts) against a
// local wallet stand-in: it must send what the SDK's own ky client sends (headers, signatures a
// wallet verifies), hand failures to the SDK in the shape it reads, and retry and time out as ky does.
import crypto from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { createUnauthenticatedClient, OpenPaymentsClientError } from '@interledger/open-payments'
import { validateSignature, validateSignatureHeaders, type JWK } from '@interledger/http-signature-utils'
import { HTTPError, TimeoutError } from 'ky'
import pino from 'pino'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGuardedClient, guardedSend, MAX_WALLET_ANSWER_BYTES } from '../../src/open-payments/network-guard.js'
import { loadSdk } from '../../src/open-payments/sdk.js'
import { sdkLogger } from '../../src/open-payments/sdk-logger.js'
import { createWalletHttpClient, type WalletHttpClient } from '../../src/open-payments/wallet-http.js'

interface Received {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
  at: number
}

/** What the stand-in answers next, per path; every request is recorded. */
type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang' | 'destroy'
let answers: Record<string, Answer[]> = {}
let received: Received[] = []
let origin: string
const server = http.createServer((req, res) => {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk) => (body += chunk))
  req.on('end', () => {
    const path = new URL(req.url!, 'http://x').pathname
    received.push({ method: req.method!, url: req.url!, headers: req.headers, body, at: performance.now() })
    const answer = answers[path]?.shift() ?? { status: 200, body: '{"ok":true}' }
    if (answer === 'hang') return
    if (answer === 'destroy') return void req.socket.destroy()
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '')
  })
})
beforeAll(async () => {
  await loadSdk() // installs the service's HTTP client into the SDK, as the first wallet call does
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})
beforeEach(() => {
  answers = {}
  received = []
})

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'EdDSA', use: 'sig' } as JWK
const signing = { privateKey, keyId: 'key-1' }
const send = guardedSend({ allowPrivateHosts: true })
const client = (timeoutMs = 2_000): WalletHttpClient => createWalletHttpClient({ requestTimeoutMs: timeoutMs, requestSigningArgs: signing }, send)

/** The SDK's own client (ky over fetch), as the SDK builds it outside the service's seam. */
const sdkRequests = createRequire(import.meta.url)('@interledger/open-payments/dist/client/requests.js') as {
  createHttpClient(args: unknown): Promise<WalletHttpClient>
}
const kyClient = () => sdkRequests.createHttpClient({ requestTimeoutMs: 2_000, requestSigningArgs: signing, logger: pino({ level: 'silent' }) })

/** The request as a wallet verifies it (Rafiki: validateSignatureHeaders, then validateSignature with the client's key). */
const asWalletSees = (r: Received) => ({
  method: r.method,
  url: `${origin}${r.url}`,
  headers: Object.fromEntries(Object.entries(r.headers).map(([name, value]) => [name, String(value)])),
  body: r.body || undefined,
})
/** The headers that carry meaning (transport headers such as user-agent or connection are left out). */
const meaningful = (r: Received) =>
  Object.fromEntries(
    ['accept', 'authorization', 'content-type', 'content-length', 'content-digest', 'user-agent']
      .filter((name) => r.headers[name] !== undefined)
      .map((name) => [name, r.headers[name]]),
  )
const signedComponents = (r: Received) => String(r.headers['signature-input']).replace(/;created=\d+/, '')

describe('what a wallet receives', () => {
  it.each([
    ['a POST with a body and a GNAP token', 'post', { json: { walletAddress: 'https://w.example/a', incomingAmount: { value: '100' } }, headers: { Authorization: 'GNAP token-1' } }],
    ['a POST without a token (a grant request)', 'post', { json: { access_token: { access: [{ type: 'quote', actions: ['create'] }] } } }],
    ['a GET with a GNAP token', 'get', { headers: { Authorization: 'GNAP token-2' } }],
    ['a DELETE with a GNAP token', 'delete', { headers: { Authorization: 'GNAP token-3' } }],
  ] as const)('%s: the same headers and signed components as the SDK own client, and a signature the wallet accepts', async (_name, method, options) => {
    const ours = await client()[method](`${origin}/ours`, options)
    expect(ours.status).toBe(200)
    await (await kyClient())[method](`${origin}/sdk`, options)
    const [fromUs, fromSdk] = received
    expect(fromUs.method).toBe(fromSdk.method)
    expect(fromUs.body).toBe(fromSdk.body)
    expect(meaningful(fromUs)).toEqual(meaningful(fromSdk))
    expect(signedComponents(fromUs)).toBe(signedComponents(fromSdk))
    expect(validateSignatureHeaders(asWalletSees(fromUs))).toBe(true)
    expect(await validateSignature(jwk, asWalletSees(fromUs))).toBe(true)
    // A forged body no longer matches what was signed.
    if (fromUs.body) expect(await validateSignature(jwk, { ...asWalletSees(fromUs), body: fromUs.body.replace('{', '{"forged":1,') }).catch(() => false)).toBe(false)
  })

  it('a GET without a token is not signed (wallet address documents), as the SDK sends it', async () => {
    await client().get(`${origin}/alice`)
    await (await kyClient()).get(`${origin}/alice`)
    expect(received[0].headers.signature).toBeUndefined()
    expect(meaningful(received[0])).toEqual(meaningful(received[1]))
  })

  it('an unauthenticated client signs nothing', async () => {
    const unsigned = createWalletHttpClient({ requestTimeoutMs: 2_000 }, send)
    await unsigned.post(`${origin}/grant`, { json: { a: 1 } })
    expect(received[0].headers.signature).toBeUndefined()
    expect(received[0].body).toBe('{"a":1}')
  })
})

describe('answers and failures, as the SDK reads them', () => {
  it('a 2xx answer: status and JSON body', async () => {
    answers['/x'] = [{ status: 201, body: '{"id":"https://w.example/incoming-payments/1"}' }]
    const answer = await client().post(`${origin}/x`, { json: {} })
    expect(answer.status).toBe(201)
    expect(await answer.json()).toEqual({ id: 'https://w.example/incoming-payments/1' })
  })

  it("a wallet's refusal reaches the caller as the SDK's error with the wallet's status, code and description", async () => {
    answers['/alice'] = [{ status: 404, body: '{"error":{"code":"invalid_request","description":"no such wallet"}}' }]
    const sdk = await createGuardedClient(() => createUnauthenticatedClient({ useHttp: true, requestTimeoutMs: 2_000, logger: sdkLogger(pino({ level: 'silent' })) }), { allowPrivateHosts: true })
    const failure = await sdk.walletAddress.get({ url: `${origin}/alice` }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(OpenPaymentsClientError)
    expect(failure).toMatchObject({ status: 404, code: 'invalid_request', description: 'no such wallet' })
    expect(received).toHaveLength(1)
  })

  it('an answer larger than 1 MiB is refused as a network error, not read into memory', async () => {
    answers['/huge'] = [{ status: 200, body: `{"pad":"${'x'.repeat(MAX_WALLET_ANSWER_BYTES)}"}` }]
    const failure = await client().post(`${origin}/huge`, { json: {} }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TypeError)
    expect(String(((failure as TypeError).cause as Error).message)).toMatch(/max.*size/i)
    answers['/big-enough'] = [{ status: 200, body: `{"pad":"${'x'.repeat(MAX_WALLET_ANSWER_BYTES - 100)}"}` }]
    expect((await client().post(`${origin}/big-enough`, { json: {} })).status).toBe(200)
  })

  it('a redirect is an answer, never followed', async () => {
    answers['/moved'] = [{ status: 302, headers: { location: `${origin}/elsewhere` } }]
    const failure = await client().get(`${origin}/moved`).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(HTTPError)
    expect((failure as HTTPError).response.status).toBe(302)
    expect(received.map((r) => r.url)).toEqual(['/moved'])
  })
})

describe('retries and the time limit, as ky does them', () => {
  it('retries a GET after a 503 twice, after 0.3 s and then 0.6 s, and takes the answer', async () => {
    answers['/r'] = [{ status: 503 }, { status: 503 }, { status: 200, body: '{"n":3}' }]
    const answer = await client().get(`${origin}/r`, { headers: { Authorization: 'GNAP t' } })
    expect(await answer.json()).toEqual({ n: 3 })
    expect(received).toHaveLength(3)
    expect(received[1].at - received[0].at).toBeGreaterThanOrEqual(290)
    expect(received[2].at - received[1].at).toBeGreaterThanOrEqual(590)
    // Signed afresh for each attempt, as ky runs the SDK's signing hook each time.
    for (const r of received) expect(await validateSignature(jwk, asWalletSees(r))).toBe(true)
  })

  it('gives up after three attempts, with the last failure', async () => {
    answers['/r'] = [{ status: 502 }, { status: 502 }, { status: 504 }, { status: 200 }]
    const failure = await client().delete(`${origin}/r`).catch((error: unknown) => error)
    expect((failure as HTTPError).response.status).toBe(504)
    expect(received).toHaveLength(3)
  })

  it('never retries a POST (it could create twice), nor a 4xx', async () => {
    answers['/p'] = [{ status: 503 }, { status: 200 }]
    expect(((await client().post(`${origin}/p`, { json: {} }).catch((e: unknown) => e)) as HTTPError).response.status).toBe(503)
    answers['/g'] = [{ status: 400 }, { status: 200 }]
    expect(((await client().get(`${origin}/g`).catch((e: unknown) => e)) as HTTPError).response.status).toBe(400)
    expect(received).toHaveLength(2)
  })

  it("waits what a 429's Retry-After asks, at most the time limit", async () => {
    answers['/slow'] = [{ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }]
    await client().get(`${origin}/slow`)
    expect(received[1].at - received[0].at).toBeGreaterThanOrEqual(990)
    answers['/slower'] = [{ status: 503, headers: { 'retry-after': '3600' } }, { status: 200 }]
    const began = performance.now()
    await client(400).get(`${origin}/slower`)
    expect(performance.now() - began).toBeLessThan(2_000)
    expect(received[3].at - received[2].at).toBeGreaterThanOrEqual(390)
  })

  it('times out an attempt at requestTimeoutMs with TimeoutError, and does not retry it', async () => {
    answers['/hang'] = ['hang', { status: 200 }]
    const began = performance.now()
    const failure = await client(300).get(`${origin}/hang`).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TimeoutError)
    expect(performance.now() - began).toBeGreaterThanOrEqual(290)
    expect(performance.now() - began).toBeLessThan(1_500)
    expect(received).toHaveLength(1)
  })

  it("a dropped connection is fetch's network error, with its cause; a GET is retried, a POST is not", async () => {
    answers['/drop'] = ['destroy', 'destroy', 'destroy']
    const failure = await client().get(`${origin}/drop`).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TypeError)
    expect((failure as TypeError).message).toBe('fetch failed')
    expect((failure as TypeError).cause).toBeInstanceOf(Error)
    expect(received).toHaveLength(3)
    answers['/drop-post'] = ['destroy', { status: 200 }]
    expect(await client().post(`${origin}/drop-post`, { json: {} }).catch((error: unknown) => error)).toBeInstanceOf(TypeError)
    expect(received).toHaveLength(4)
  })
})
