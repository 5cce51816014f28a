// Issue 9 item 5: request bodies must be declared JSON (a cross-site form post cannot declare it
// without a CORS preflight), and every error a client can get, down to the HTTP parser's own
// refusals, has the documented shape `{ error, code, details? }`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN, startTestService, writeEd25519Key, type TestService } from '../harness.js'
import { sendRaw, type RawResponse } from './raw-http.js'

// A development instance without API_TOKENS: exactly where a form post from any page would land.
let service: TestService
let keyFile: string
beforeAll(async () => {
  service = await startTestService({ API_TOKENS: '' })
  keyFile = writeEd25519Key(service.keysDir, 'seller.key').file
})
afterAll(() => service.close())

const sellerBody = (id: string) => JSON.stringify({ id, walletAddressUrl: 'https://wallet.example/s', keyId: 'k', privateKeyPath: keyFile })

function expectDocumentedError(res: RawResponse, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = JSON.parse(res.body)
  expect(body.code).toBe(code)
  expect(typeof body.error).toBe('string')
  expect(Object.keys(body).every((k) => ['error', 'code', 'details'].includes(k))).toBe(true)
}

const post = (path: string, contentType: string | null, body: string, extra = '') =>
  sendRaw(
    service.url,
    `POST ${path} HTTP/1.1\r\nHost: x\r\n${contentType === null ? '' : `Content-Type: ${contentType}\r\n`}Content-Length: ${Buffer.byteLength(body)}${extra}\r\nConnection: close`,
    body,
  )

const notJson = [null, 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'text/json']

describe('REST bodies must be application/json', () => {
  it.each(notJson)('Content-Type %s is 415 and changes nothing', async (contentType) => {
    const before = await service.db.seller.count()
    for (const path of ['/sellers', '/offers/o1/quotes/start', '/api/payments/incoming', '/api/wallet/profile']) {
      const res = await post(path, contentType, sellerBody('form-post'))
      expectDocumentedError(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
      expect(JSON.parse(res.body).error).toBe('Content-Type must be application/json')
    }
    expect(await service.db.seller.count()).toBe(before)
  })

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8'])('Content-Type %s is accepted', async (contentType) => {
    const res = await post('/sellers', contentType, sellerBody('json-post'))
    expect(res.status).toBe(201)
  })
})

describe('/graphql', () => {
  const mutation = JSON.stringify({ query: `mutation { upsertSeller(input: {id: "gql-form", walletAddressUrl: "https://wallet.example/s", keyId: "k", privateKeyPath: ${JSON.stringify(keyFile)}}) { __typename } }` })

  it.each(notJson)('Content-Type %s is 415 in the documented shape and executes nothing', async (contentType) => {
    const res = await post('/graphql', contentType, mutation)
    expectDocumentedError(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
    expect(await service.db.seller.count({ where: { id: 'gql-form' } })).toBe(0)
  })

  it('a form-encoded operation is refused too', async () => {
    const res = await post('/graphql', 'application/x-www-form-urlencoded', `query=${encodeURIComponent(JSON.parse(mutation).query)}`)
    expectDocumentedError(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
    expect(await service.db.seller.count({ where: { id: 'gql-form' } })).toBe(0)
  })

  it('an Accept it cannot answer is 406 in the documented shape', async () => {
    const res = await post('/graphql', 'application/json', JSON.stringify({ query: '{ __typename }' }), '\r\nAccept: text/plain')
    expectDocumentedError(res, 406, 'NOT_ACCEPTABLE')
  })

  it('still executes a JSON operation', async () => {
    const res = await post('/graphql', 'application/json', JSON.stringify({ query: '{ __typename }' }))
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toEqual({ data: { __typename: 'Query' } })
  })
})

describe("the HTTP parser's refusals", () => {
  it('a header too large is 431 in the documented shape', async () => {
    const res = await sendRaw(service.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}`)
    expectDocumentedError(res, 431, 'REQUEST_HEADERS_TOO_LARGE')
  })

  it('a URL too long is 431 in the documented shape, without echoing it', async () => {
    const res = await sendRaw(service.url, `GET /payments/${'a'.repeat(20_000)}/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_TOKEN}`)
    expectDocumentedError(res, 431, 'REQUEST_HEADERS_TOO_LARGE')
    expect(res.body).not.toContain('aaaa')
  })

  it.each([
    ['a request line that is not HTTP', 'BLAH'],
    ['a header line without a colon', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header'],
    ['two Content-Length headers', 'POST /sellers HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2'],
  ])('%s is 400 in the documented shape', async (_name, head) => {
    expectDocumentedError(await sendRaw(service.url, head), 400, 'BAD_REQUEST')
  })

  it('the service still answers afterwards', async () => {
    expect((await service.request('/health')).status).toBe(200)
  })
})
