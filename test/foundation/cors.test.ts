// CORS_ALLOWED_ORIGINS: browsers on listed origins may call /graphql and the REST API; nobody else
// gets CORS headers; preflights need no token and run nothing; the finish redirect never has CORS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.js'
import { startTestService, testEnv, makeTempDir, type TestService } from '../harness.js'

const SHOP = 'https://shop.example.com'
const EVIL = 'https://evil.example.net'
const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'))
const sellersQuery = '{ sellers(first: 1) { totalCount } }'
const preflight = (origin: string, method = 'POST') => ({
  method: 'OPTIONS',
  token: null,
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
})

describe('by default (no CORS_ALLOWED_ORIGINS)', () => {
  let service: TestService
  beforeAll(async () => (service = await startTestService()))
  afterAll(() => service.close())

  it('sends no CORS header anywhere, GraphQL included', async () => {
    const graphql = await service.request('/graphql', { method: 'POST', json: { query: sellersQuery }, headers: { origin: EVIL } })
    expect(graphql.status).toBe(200)
    expect(corsHeaders(graphql)).toEqual([])
    const rest = await service.request('/sellers', { headers: { origin: EVIL } })
    expect(rest.status).toBe(200)
    expect(corsHeaders(rest)).toEqual([])
    const options = await service.request('/graphql', preflight(EVIL))
    expect(corsHeaders(options)).toEqual([])
    expect(options.status).toBe(401) // no CORS: an OPTIONS is just another unauthenticated request
  })
})

describe(`with CORS_ALLOWED_ORIGINS=${SHOP}`, () => {
  let service: TestService
  beforeAll(async () => (service = await startTestService({ CORS_ALLOWED_ORIGINS: `${SHOP},https://admin.example.com:8443` })))
  afterAll(() => service.close())

  it('lets the allowed origin read GraphQL and REST answers, errors included, without credentials', async () => {
    const graphql = await service.request('/graphql', { method: 'POST', json: { query: sellersQuery }, headers: { origin: SHOP } })
    expect(graphql.status).toBe(200)
    expect(graphql.headers.get('access-control-allow-origin')).toBe(SHOP)
    expect(graphql.headers.get('vary')).toMatch(/origin/i)
    expect(graphql.headers.get('access-control-allow-credentials')).toBeNull()
    expect(graphql.headers.get('access-control-expose-headers')).toMatch(/x-request-id/i)

    const rest = await service.request('/sellers', { headers: { origin: 'https://admin.example.com:8443' } })
    expect(rest.status).toBe(200)
    expect(rest.headers.get('access-control-allow-origin')).toBe('https://admin.example.com:8443')

    // A missing token is still refused, and the front end can read why.
    const refused = await service.request('/payments/pending', { token: null, headers: { origin: SHOP } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe(SHOP)
    expect(await refused.json()).toMatchObject({ code: 'UNAUTHENTICATED' })
  })

  it('gives any other origin no CORS header (GraphQL included), so browsers refuse the read', async () => {
    for (const origin of [EVIL, 'http://shop.example.com', 'https://shop.example.com.evil.net', 'null']) {
      const graphql = await service.request('/graphql', { method: 'POST', json: { query: sellersQuery }, headers: { origin } })
      expect(graphql.headers.get('access-control-allow-origin'), origin).toBeNull()
      expect(graphql.headers.get('access-control-allow-credentials'), origin).toBeNull()
      const rest = await service.request('/sellers', { headers: { origin } })
      expect(rest.headers.get('access-control-allow-origin'), origin).toBeNull()
    }
  })

  it('answers a preflight without a token, and the preflight runs nothing', async () => {
    const res = await service.request('/graphql', preflight(SHOP))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP)
    expect(res.headers.get('access-control-allow-methods')?.split(',')).toEqual(expect.arrayContaining(['GET', 'POST']))
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'idempotency-key']),
    )
    expect(res.headers.get('access-control-max-age')).toBe('600')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    expect(await res.text()).toBe('')

    // An OPTIONS shaped like a seller registration or a GraphQL mutation changes nothing.
    const before = await service.db.seller.count()
    const rest = await service.request('/sellers', {
      ...preflight(SHOP),
      json: { id: 'via-options', walletAddressUrl: 'https://wallet.example/s', keyId: 'k', privateKeyPath: 'x.key' },
    })
    expect(rest.status).toBe(204)
    const mutation = `mutation { upsertSeller(input: {id: "via-options", walletAddressUrl: "https://wallet.example/s", keyId: "k", privateKeyPath: "x.key"}) { __typename } }`
    const graphql = await service.request(`/graphql?query=${encodeURIComponent(mutation)}`, preflight(SHOP, 'GET'))
    expect(graphql.status).toBe(204)
    expect(await service.db.seller.count()).toBe(before)

    // A preflight from another origin gets no permission.
    const evil = await service.request('/graphql', preflight(EVIL))
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('leaves the wallet finish redirect without CORS, even for the allowed origin', async () => {
    const finish = await service.request('/payments/finish?pendingId=01J00000000000000000000000&hash=x&interact_ref=y', {
      token: null,
      headers: { origin: SHOP },
    })
    expect(finish.status).toBeGreaterThanOrEqual(400) // unknown payment: answered as before, no CORS
    expect(corsHeaders(finish)).toEqual([])
    const options = await service.request('/payments/finish', preflight(SHOP, 'GET'))
    expect(corsHeaders(options)).toEqual([])
    expect(options.status).not.toBe(204)
  })
})

describe('CORS_ALLOWED_ORIGINS=* (development only)', () => {
  let service: TestService
  beforeAll(async () => (service = await startTestService({ CORS_ALLOWED_ORIGINS: '*' })))
  afterAll(() => service.close())

  it('allows any origin, never with credentials', async () => {
    const res = await service.request('/graphql', { method: 'POST', json: { query: sellersQuery }, headers: { origin: EVIL } })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    const options = await service.request('/sellers', preflight(EVIL))
    expect(options.headers.get('access-control-allow-origin')).toBe('*')
    expect(options.headers.get('access-control-allow-credentials')).toBeNull()
  })
})

describe('CORS_ALLOWED_ORIGINS validation', () => {
  const dir = makeTempDir()
  let env: Record<string, string>
  beforeAll(async () => {
    env = await testEnv(dir)
  })
  const parse = (value: string, extra: Record<string, string> = {}) => () => parseConfig({ ...env, CORS_ALLOWED_ORIGINS: value, ...extra })

  it('takes origins exactly as browsers send them, and refuses anything else', () => {
    expect(parse(` ${SHOP} , http://localhost:5173`)().corsAllowedOrigins).toEqual([SHOP, 'http://localhost:5173'])
    expect(parse('')().corsAllowedOrigins).toEqual([])
    for (const bad of [`${SHOP}/`, `${SHOP}/app`, 'shop.example.com', 'https://Shop.example.com', 'https://shop.example.com:443', 'ftp://shop.example.com', `*,${SHOP}`]) {
      expect(parse(bad), bad).toThrow(/CORS_ALLOWED_ORIGINS/)
    }
  })

  it('refuses * in production', () => {
    const production = {
      NODE_ENV: 'production',
      API_TOKENS: 'production-token-0123456789',
      WEBHOOK_SECRET: `whsec_${Buffer.alloc(24, 1).toString('base64')}`,
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
      BASE_URL: 'https://payments.example.com',
    }
    expect(parse(SHOP, production)().corsAllowedOrigins).toEqual([SHOP])
    expect(parse('*', production)).toThrow(ConfigError)
    expect(parse('*', production)).toThrow(/CORS_ALLOWED_ORIGINS: \* is refused when NODE_ENV=production/)
  })
})
