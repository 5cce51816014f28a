// Issue 9 item 1: no request without a token executes a GraphQL operation, however its request
// line is spelled. Raw sockets, because fetch drops the `#...` part a browser or attacker can send.
import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderGraphiQLPage } from '../../src/graphql/graphiql.js'
import { startTestService, writeEd25519Key, type TestService } from '../harness.js'
import { sendRaw } from './raw-http.js'

const productionEnv = {
  NODE_ENV: 'production',
  BASE_URL: 'https://payments.example',
  WEBHOOK_SECRET: `whsec_${crypto.randomBytes(32).toString('base64')}`,
  TOKEN_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
} as const

const CANARY = 'https://wallet.example/leak-canary'
const operations = [
  '{sellers{edges{node{id walletAddressUrl keyId privateKeyPath}}}}',
  '{payments{edges{node{id}}}}',
  '{webhookEvents{edges{node{id}}}}',
  '{__schema{types{name}}}',
  '{__typename}',
]

/** Request lines that yoga's GET parser would read a query from, spelled the ways the issue found. */
function requestTargets(operation: string): string[] {
  const q = encodeURIComponent(operation)
  return [
    `/graphql#?query=${q}`,
    `/graphql?query=${q}`,
    `/graphql?#&query=${q}`,
    `/graphql?x=1#&query=${q}`,
    `/graphql?query=${q}#`,
    `/graphql/?query=${q}`,
    `/graphql;?query=${q}`,
    `/graphql%23?query=${q}`,
    `/GRAPHQL?query=${q}`,
  ]
}

async function seedSeller(service: TestService) {
  const key = writeEd25519Key(service.keysDir, 'canary.key')
  const res = await service.request('/sellers', {
    method: 'POST',
    json: { id: 'canary', walletAddressUrl: CANARY, keyId: 'canary-key', privateKeyPath: key.file },
  })
  expect(res.status).toBe(201)
}

function expectNoData(body: string, what: string) {
  expect(body, what).not.toContain('leak-canary')
  expect(body, what).not.toContain('canary-key')
  expect(body, what).not.toContain('"data"')
  expect(body, what).not.toContain('__typename')
  expect(body, what).not.toContain('Query')
}

describe('production (API_TOKENS set, GraphiQL off)', () => {
  let service: TestService
  beforeAll(async () => {
    service = await startTestService(productionEnv)
    await seedSeller(service)
  })
  afterAll(() => service.close())

  it('answers every token-less GET spelling with 401 or 404 and no data, whatever it accepts', async () => {
    for (const operation of operations) {
      for (const target of requestTargets(operation)) {
        for (const accept of ['text/html, application/json', 'text/html', 'application/json', '*/*']) {
          for (const method of ['GET', 'HEAD']) {
            const res = await sendRaw(service.url, `${method} ${target} HTTP/1.1\r\nHost: x\r\nAccept: ${accept}\r\nConnection: close`)
            const what = `${method} ${target} (Accept: ${accept}) -> ${res.status}`
            expect([401, 404], what).toContain(res.status)
            expectNoData(res.body, what)
          }
        }
      }
    }
  })

  it('answers exactly 401 for the spellings the issue reproduced', async () => {
    const q = encodeURIComponent(operations[0])
    for (const target of [`/graphql#?query=${q}`, `/graphql?query=${q}`, `/graphql?query=${q}#`]) {
      const res = await sendRaw(service.url, `GET ${target} HTTP/1.1\r\nHost: x\r\nAccept: text/html, application/json\r\nConnection: close`)
      expect(res.status, target).toBe(401)
      expect(JSON.parse(res.body)).toEqual({ error: 'Missing or invalid bearer token', code: 'UNAUTHENTICATED' })
    }
  })

  it('answers a token-less POST with 401 whatever its request line or Accept header', async () => {
    const body = JSON.stringify({ query: operations[0] })
    for (const target of ['/graphql', '/graphql#', '/graphql#?query=x', '/graphql?query=%7B__typename%7D']) {
      for (const accept of ['text/html', 'application/json']) {
        const res = await sendRaw(
          service.url,
          `POST ${target} HTTP/1.1\r\nHost: x\r\nAccept: ${accept}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close`,
          body,
        )
        expect(res.status, `POST ${target}`).toBe(401)
        expectNoData(res.body, `POST ${target}`)
      }
    }
  })

  it('still executes operations that carry the token', async () => {
    const { data } = await service.graphql('{sellers{edges{node{walletAddressUrl}}}}')
    expect(data.sellers.edges.map((e: any) => e.node.walletAddressUrl)).toContain(CANARY)
  })
})

describe('GraphiQL on (development default, or GRAPHIQL=true in production)', () => {
  for (const [name, env] of [
    ['development', {}],
    ['production with GRAPHIQL=true', { ...productionEnv, GRAPHIQL: 'true' }],
  ] as const) {
    describe(name, () => {
      let service: TestService
      beforeAll(async () => {
        service = await startTestService(env)
        await seedSeller(service)
      })
      afterAll(() => service.close())

      it('serves the static page for a browser GET, executing nothing, whatever the query string says', async () => {
        for (const operation of operations) {
          for (const target of requestTargets(operation).slice(0, 5)) {
            const res = await sendRaw(service.url, `GET ${target} HTTP/1.1\r\nHost: x\r\nAccept: text/html, application/json\r\nConnection: close`)
            expect(res.status, target).toBe(200)
            expect(res.headers['content-type']).toMatch(/^text\/html/)
            expect(res.body).toBe(renderGraphiQLPage())
            expect(res.body, target).not.toContain('leak-canary')
          }
        }
      })

      it('refuses a token-less non-browser GET or POST with 401', async () => {
        const q = encodeURIComponent(operations[0])
        const get = await sendRaw(service.url, `GET /graphql#?query=${q} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close`)
        expect(get.status).toBe(401)
        const res = await service.request('/graphql', { method: 'POST', json: { query: operations[0] }, token: null, headers: { accept: 'text/html' } })
        expect(res.status).toBe(401)
        expectNoData(await res.text(), 'POST')
      })
    })
  }
})
