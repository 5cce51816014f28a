// Findings of an outside review of the public surface, each held here through real HTTP:
// GraphiQL asset names, a bounded nodes(ids), the Bearer scheme's case, compressed bodies, and no
// CORS headers on the buyer's finish pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN, startTestService, type TestService } from '../harness.js'

const SHOP = 'https://shop.example.com'
let service: TestService
beforeAll(async () => {
  service = await startTestService({ GRAPHIQL: 'true', CORS_ALLOWED_ORIGINS: SHOP } as never)
})
afterAll(() => service.close())

describe('GraphiQL assets', () => {
  it('answers 404 in the error shape for any name that is not a listed file, built-in property names included, and logs no error', async () => {
    const page = await (await service.request('/graphql', { headers: { accept: 'text/html' }, token: null })).text()
    const assets = /\/graphiql-assets\/[^/"']+/.exec(page)![0]
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'package.json', 'nope.js']) {
      const res = await service.request(`${assets}/${name}`, { token: null })
      expect(res.status, name).toBe(404)
      expect(await res.json(), name).toMatchObject({ code: 'NOT_FOUND' })
    }
    expect((await service.request(`${assets}/graphiql.css`, { token: null })).status).toBe(200)
    expect(service.logs.filter((line) => line.includes('"level":50'))).toEqual([])
  })
})

describe('nodes(ids)', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`Seller:s${i}`).toString('base64'))
  it('looks up at most 100 ids in one request', async () => {
    const ok = await service.graphql('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ids(100) })
    expect(ok.errors).toBeUndefined()
    expect(ok.data.nodes).toHaveLength(100)
    const tooMany = await service.graphql('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: ids(101) })
    expect(tooMany.data).toBeNull()
    expect(tooMany.errors?.[0].extensions.code).toBe('VALIDATION_FAILED')
  })
})

describe('payments(filter: { states })', () => {
  it('reads each state once however often the list repeats it (a list of 600 was one statement branch each, and INTERNAL past 500 on SQLite)', async () => {
    const query = 'query($f: PaymentFilter) { payments(first: 10, filter: $f) { edges { node { pendingId } } } }'
    const once = await service.graphql(query, { f: { states: ['FAILED', 'COMPLETED'] } })
    const repeated = await service.graphql(query, { f: { states: Array.from({ length: 600 }, (_, i) => (i % 2 ? 'FAILED' : 'COMPLETED')) } })
    expect(once.errors).toBeUndefined()
    expect(repeated.errors).toBeUndefined()
    expect(repeated.data).toEqual(once.data)
  })
})

describe('authentication', () => {
  it('takes the Bearer scheme in any case (RFC 9110), and still refuses a wrong token', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await service.request('/sellers', { headers: { authorization: `${scheme} ${API_TOKEN}` }, token: null })
      expect(res.status, scheme).toBe(200)
    }
    expect((await service.request('/sellers', { headers: { authorization: 'bearer wrong-token-0123456789' }, token: null })).status).toBe(401)
  })
})

describe('request bodies', () => {
  it('refuses a compressed body with 415 instead of reading it as JSON', async () => {
    const res = await service.request('/sellers', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: JSON.stringify({ id: 'x' }),
    })
    expect(res.status).toBe(415)
    expect(await res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' })
    expect((await service.request('/sellers')).status).toBe(200)
    expect((await (await service.request('/sellers')).json()).sellers).toEqual([])
  })
})

describe('CORS', () => {
  it('sends no CORS headers on the finish redirect nor on the finish pages below it, and does on the API', async () => {
    for (const path of ['/payments/finish', '/payments/finish/01ARZ3NDEKTSV4RRFFQ69G5FAV', '/payments/finish/01ARZ3NDEKTSV4RRFFQ69G5FAV/progress']) {
      const res = await service.request(path, { headers: { origin: SHOP }, token: null })
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull()
    }
    const api = await service.request('/sellers', { headers: { origin: SHOP } })
    expect(api.headers.get('access-control-allow-origin')).toBe(SHOP)
  })
})
