// Issue 9 item 10: every path parameter has the bound start gives offerId (100 characters), and
// no error repeats unbounded input. The routes are read from the routers themselves, so a new
// route with a path parameter is checked without editing this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finishRoutes, paymentRoutes } from '../../src/payments/routes.js'
import { sellerRoutes } from '../../src/sellers/routes.js'
import type { Deps } from '../../src/deps.js'
import { startTestService, type TestService } from '../harness.js'

let service: TestService
beforeAll(async () => {
  service = await startTestService()
})
afterAll(() => service.close())

// The routers' route tables, built without a service: a factory only keeps `deps` for its handlers.
const unused = {} as Deps
const routesWithParams = [paymentRoutes, sellerRoutes, finishRoutes].flatMap((routes) => routes(unused).routes).filter((r) => r.path.includes('/:'))
const fill = (path: string, value: string) => path.replace(/:\w+/g, value)

async function call(method: string, path: string) {
  const res = await service.request(path, method === 'POST' ? { method, json: {} } : { method })
  return { status: res.status, text: await res.text() }
}

describe('REST path parameters', () => {
  it('the routers have the parameterised routes this test expects to find', () => {
    expect(routesWithParams.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      expect.arrayContaining(['GET /offers/:offerId/payments', 'GET /payments/:pendingId/status', 'POST /offers/:offerId/quotes/start']),
    )
  })

  for (const { method, path } of routesWithParams) {
    it(`${method} ${path}: 101 or 10,000 characters are 400 VALIDATION_FAILED, never echoed`, async () => {
      for (const length of [101, 5_000, 10_000]) {
        const long = 'x'.repeat(length)
        const { status, text } = await call(method, fill(path, long))
        expect(status, `${length} characters`).toBe(400)
        const body = JSON.parse(text)
        expect(body.code).toBe('VALIDATION_FAILED')
        expect(text).not.toContain('x'.repeat(101))
      }
    })

    it(`${method} ${path}: 100 characters pass the bound`, async () => {
      const { status, text } = await call(method, fill(path, 'y'.repeat(100)))
      const refusedFields = Object.keys(JSON.parse(text).details?.fields ?? {})
      for (const [, param] of path.matchAll(/:(\w+)/g)) expect(refusedFields, text).not.toContain(param)
      expect([200, 400, 404]).toContain(status)
    })
  }

  it('GET /payments/<10,000 characters>/status is the issue reproduction: 400, not a 404 that echoes the id', async () => {
    const res = await service.request(`/payments/${'p'.repeat(10_000)}/status`)
    expect(res.status).toBe(400)
    expect(await res.text()).not.toContain('p'.repeat(101))
  })
})

describe('GraphQL arguments that name an offer or a payment', () => {
  it('refuse over 100 characters without echoing them', async () => {
    const long = 'z'.repeat(10_000)
    for (const query of ['query ($id: String!) { offer(offerId: $id) { offerId } }', 'mutation ($id: String!) { recheckPayment(pendingId: $id) { __typename ... on AppError { code message details } } }']) {
      const res = await service.graphql(query, { id: long })
      const text = JSON.stringify(res)
      expect(text, query).toContain('VALIDATION_FAILED')
      expect(text, query).not.toContain('z'.repeat(101))
    }
  })
})
