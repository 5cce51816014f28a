// Issue 9 item 2: a 413 either closes the connection cleanly (announced with `Connection: close`,
// then ended) or leaves it usable; and a request without a token is refused before its body counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN, startTestService, type TestService } from '../harness.js'
import { RawConnection, sendRaw, type RawResponse } from './raw-http.js'

const LIMIT = 10_000
let service: TestService
beforeAll(async () => {
  service = await startTestService({ BODY_LIMIT_BYTES: String(LIMIT) })
})
afterAll(() => service.close())

const oversized = (bytes: number) => JSON.stringify({ id: 'x'.repeat(bytes) })
const head = (method: string, path: string, headers: Record<string, string | number>) =>
  [`${method} ${path} HTTP/1.1`, 'Host: x', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n')

/** The contract after a 413 on a connection the client wants to keep: announced close and closed, or still usable. */
async function expectConnectionHonest(connection: RawConnection, res: RawResponse) {
  if (res.headers.connection?.toLowerCase() === 'close') {
    expect(await connection.waitForClose(3000), 'announced close, so the server must end the connection').toBe(true)
    return
  }
  // Announced keep-alive: the next request must work on this very connection, now and later.
  for (const pause of [0, 800]) {
    await new Promise((resolve) => setTimeout(resolve, pause))
    await connection.write(`${head('GET', '/health', {})}\r\n\r\n`)
    expect((await connection.readResponse()).status).toBe(200)
  }
}

describe('413 on a keep-alive connection', () => {
  it.each([
    ['Content-Length, body sent in full', 2 * LIMIT, 0],
    ['Content-Length, body sent after the answer (a slow uploader)', 2 * LIMIT, 800],
    ['Content-Length, a large body', 3_000_000, 0],
  ])('%s', async (_name, bytes, bodyDelayMs) => {
    const body = oversized(bytes)
    const connection = await RawConnection.open(service.url)
    try {
      const headers = `${head('POST', '/sellers', { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })}\r\n\r\n`
      // A server that answers early may close before the upload ends: write errors are expected then.
      if (bodyDelayMs === 0) connection.write(headers + body).catch(() => {})
      else await connection.write(headers)
      const res = await connection.readResponse()
      expect(res.status).toBe(413)
      expect(JSON.parse(res.body)).toEqual({ error: `Request body is larger than ${LIMIT} bytes`, code: 'PAYLOAD_TOO_LARGE' })
      if (bodyDelayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, bodyDelayMs))
        await connection.write(body).catch(() => {})
      }
      await expectConnectionHonest(connection, res)
    } finally {
      connection.close()
    }
  })

  it('chunked body without Content-Length', async () => {
    const body = oversized(2 * LIMIT)
    const connection = await RawConnection.open(service.url)
    try {
      await connection.write(
        `${head('POST', '/sellers', { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })}\r\n\r\n` +
          `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      )
      const res = await connection.readResponse()
      expect(res.status).toBe(413)
      expect(JSON.parse(res.body).code).toBe('PAYLOAD_TOO_LARGE')
      await expectConnectionHonest(connection, res)
    } finally {
      connection.close()
    }
  })

  it("a pooled client's next requests succeed (fetch reuses its keep-alive connections)", async () => {
    for (let round = 0; round < 3; round++) {
      const big = await service.request('/sellers', { method: 'POST', body: oversized(2 * LIMIT), headers: { 'content-type': 'application/json' } })
      expect(big.status).toBe(413)
      await big.json()
      expect((await service.request('/sellers')).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 800))
      expect((await service.request('/sellers')).status).toBe(200)
    }
  })
})

describe('any answer given before the body is read', () => {
  // 401 (no token), 415 (not JSON), 404: answered without reading the body, which then still
  // stands on the connection. A slow uploader sends it after the answer.
  it.each([
    ['401 without a token', '/sellers', {}],
    ['415 for text/plain', '/sellers', { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'text/plain' }],
    ['404 for an unknown route', '/nope', { Authorization: `Bearer ${API_TOKEN}` }],
  ])('%s keeps the connection honest', async (_name, path, headers) => {
    const body = oversized(LIMIT / 2)
    const connection = await RawConnection.open(service.url)
    try {
      await connection.write(`${head('POST', path, { 'Content-Type': 'application/json', ...headers, 'Content-Length': Buffer.byteLength(body) })}\r\n\r\n`)
      const res = await connection.readResponse()
      expect(res.status).toBeGreaterThanOrEqual(400)
      await new Promise((resolve) => setTimeout(resolve, 800))
      await connection.write(body).catch(() => {})
      await expectConnectionHonest(connection, res)
    } finally {
      connection.close()
    }
  })
})

it('a POST whose body is read keeps its keep-alive connection (no needless close)', async () => {
  const body = JSON.stringify({ query: '{ __typename }' })
  const connection = await RawConnection.open(service.url)
  try {
    for (let i = 0; i < 3; i++) {
      await connection.write(`${head('POST', '/graphql', { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })}\r\n\r\n${body}`)
      const res = await connection.readResponse()
      expect(res.status).toBe(200)
      expect(res.headers.connection).toBe('keep-alive')
    }
  } finally {
    connection.close()
  }
})

describe('authentication comes before the body limit', () => {
  it.each(['/sellers', '/graphql', '/offers/o1/quotes/start', '/api/payments/incoming', '/nope'])(
    'a token-less oversized POST %s is 401',
    async (path) => {
      const body = oversized(2 * LIMIT)
      const res = await sendRaw(
        service.url,
        head('POST', path, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }),
        body,
      )
      expect(res.status).toBe(401)
      expect(JSON.parse(res.body)).toEqual({ error: 'Missing or invalid bearer token', code: 'UNAUTHENTICATED' })
    },
  )
})
