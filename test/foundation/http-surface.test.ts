import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN, startTestService, type TestService } from '../harness.js'

let service: TestService
beforeAll(async () => {
  service = await startTestService()
})
afterAll(() => service.close())

describe('health', () => {
  it('answers exactly the contract shape without a token', async () => {
    const res = await service.request('/health', { token: null })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(Object.keys(body)).toEqual(['status', 'service', 'time'])
    expect(body.status).toBe('ok')
    expect(body.service).toBe('payments')
    expect(new Date(body.time).toISOString()).toBe(body.time)
  })
})

describe('authentication', () => {
  it.each([
    ['no token', undefined],
    ['a wrong token', 'Bearer wrong-token-0123456789'],
    ['a token with a suffix', `Bearer ${API_TOKEN}x`],
    ['a prefix of the token', `Bearer ${API_TOKEN.slice(0, -1)}`],
    ['another scheme', `Basic ${API_TOKEN}`],
  ])('refuses %s with 401 in the documented shape', async (_name, header) => {
    for (const [method, path] of [
      ['GET', '/sellers'],
      ['POST', '/sellers'],
      ['POST', '/graphql'],
      ['GET', '/graphql?query=%7B__typename%7D'],
    ]) {
      const res = await fetch(service.url + path, {
        method,
        headers: { ...(header ? { authorization: header } : {}), 'content-type': 'application/json' },
        body: method === 'POST' ? JSON.stringify({ query: '{ __typename }' }) : undefined,
      })
      expect(res.status, `${method} ${path}`).toBe(401)
      expect(await res.json()).toEqual({ error: 'Missing or invalid bearer token', code: 'UNAUTHENTICATED' })
    }
  })

  it('accepts the right token', async () => {
    expect((await service.request('/sellers')).status).toBe(200)
    expect((await service.graphql('{ __typename }')).data).toEqual({ __typename: 'Query' })
  })

  it('serves the GraphiQL page without a token', async () => {
    const res = await fetch(`${service.url}/graphql`, { headers: { accept: 'text/html' } })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('GraphiQL')
  })
})

describe('bad requests', () => {
  it('answers malformed JSON with 400', async () => {
    const res = await service.request('/sellers', { method: 'POST', body: '{"id": ', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'Malformed JSON body', code: 'BAD_REQUEST' })
  })

  it('answers a body over the limit with 413', async () => {
    const big = JSON.stringify({ id: 'x'.repeat(200 * 1024) })
    const res = await service.request('/sellers', { method: 'POST', body: big, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(413)
    expect((await res.json()).code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('answers unknown routes with 404 in the documented shape', async () => {
    const res = await service.request('/nope')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'Not found', code: 'NOT_FOUND' })
  })

  it('logs one line per request with a request id, and never the token', async () => {
    const res = await service.request('/sellers', { headers: { 'x-request-id': 'trace-123' } })
    expect(res.headers.get('x-request-id')).toBe('trace-123')
    const line = service.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === 'trace-123')
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path: '/sellers', status: 200 })
    expect(service.logs.join('\n')).not.toContain(API_TOKEN)
  })

  it('gives every request without a sane X-Request-Id a fresh one, answered and logged', async () => {
    const answers = [
      await service.request('/sellers'),
      await service.request('/sellers'),
      await service.request('/nope', { headers: { 'x-request-id': 'not sane: spaces' } }),
      await service.request('/health', { headers: { 'x-request-id': 'x'.repeat(65) } }),
    ]
    const ids = answers.map((res) => res.headers.get('x-request-id'))
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(ids).size).toBe(ids.length)
    const logged = service.logs.map((l) => JSON.parse(l))
    for (const id of ids) expect(logged.filter((l) => l.reqId === id && l.msg === 'request')).toHaveLength(1)
  })

  it('logs requests at info, and probes that succeed at debug (a load balancer probes every few seconds)', async () => {
    const id = crypto.randomUUID()
    for (const path of ['/health', '/ready', '/sellers', '/nope']) await service.request(path, { headers: { 'x-request-id': `${id}.${path.slice(1)}` } })
    const levels = Object.fromEntries(
      service.logs
        .map((l) => JSON.parse(l))
        .filter((l) => String(l.reqId).startsWith(id))
        .map((l) => [l.path, l.level]),
    )
    expect(levels).toEqual({ '/health': 20, '/ready': 20, '/sellers': 30, '/nope': 30 })
  })
})

describe('GraphQL limits', () => {
  it('refuses operations with too many aliases or tokens, and keeps introspection', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: seller(id: "x") { sellerId }`).join(' ')
    const many = await service.graphql(`{ ${aliases} }`)
    expect(many.errors?.[0].message).toMatch(/alias/i)
    const huge = await service.graphql(`{ ${Array.from({ length: 2500 }, () => '__typename').join(' ')} }`)
    expect(huge.errors?.[0].message).toMatch(/token/i)
    const introspection = await service.graphql('{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }')
    expect(introspection.errors).toBeUndefined()
    expect(introspection.data.__schema.types.length).toBeGreaterThan(20)
  })
})
