// GET /metrics: Prometheus text with requests by route pattern and status, wallet calls by step,
// payments by state, the webhook outbox and worker lag; behind METRICS_TOKENS (else API_TOKENS);
// never an id or a secret in a label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN, startTestService } from '../harness.js'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'

const METRICS_TOKEN = 'metrics-token-0123456789abcdef'

/** Every sample of `name` as {labels, value}. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)!
      const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
      return { labels, value: Number(match[2]) }
    })
}

function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}

describe('/metrics with METRICS_TOKENS set', () => {
  let world: CheckoutWorld
  beforeAll(async () => {
    world = await startCheckoutWorld({
      // Nothing listens there: the events stay in the outbox, to be counted.
      env: { METRICS_TOKENS: METRICS_TOKEN, DJANGO_BASE_URL: 'http://127.0.0.1:9', WEBHOOK_POLL_INTERVAL_MS: '60000' },
    })
  })
  afterAll(() => world?.close())

  const scrape = async () => {
    const res = await world.service.request('/metrics', { token: METRICS_TOKEN })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    return res.text()
  }

  it('answers only the metrics token: not the API token, not without one', async () => {
    for (const token of [null, API_TOKEN, 'wrong-token-0123456789abcdef']) {
      const res = await world.service.request('/metrics', { token })
      expect(res.status).toBe(401)
      expect((await res.json()).code).toBe('UNAUTHENTICATED')
    }
    expect((await world.service.request('/metrics', { token: METRICS_TOKEN })).status).toBe(200)
    // The metrics token opens nothing else; a refused request is still labelled by its route.
    expect((await world.service.request('/sellers', { token: METRICS_TOKEN })).status).toBe(401)
    expect(valueOf(await scrape(), 'http_request_duration_seconds_count', { method: 'GET', route: '/sellers', status: '401' })).toBe(1)
  })

  it('after a checkout: requests by route pattern, wallet calls by step, payments by state, the outbox and worker lag', async () => {
    const before = await scrape()
    const { pendingId, redirectUrl } = await world.startOk({}, 'offer-77')
    const finish = await fetch(await world.approve(redirectUrl))
    expect(finish.status).toBe(200)
    await expect.poll(async () => (await (await world.service.request(`/payments/${pendingId}/status`)).json()).status, { timeout: 10_000 }).toBe('paid')
    const text = await scrape()

    const count = (page: string, labels: Record<string, string>) => valueOf(page, 'http_request_duration_seconds_count', labels) ?? 0
    const start = { method: 'POST', route: '/offers/:offerId/quotes/start', status: '200' }
    expect(count(text, start) - count(before, start)).toBe(1)
    expect(count(text, { method: 'GET', route: '/payments/finish', status: '200' })).toBeGreaterThanOrEqual(1)
    expect(count(text, { method: 'GET', route: '/payments/:pendingId/status', status: '200' })).toBeGreaterThanOrEqual(1)
    expect(count(text, { method: 'GET', route: '/metrics', status: '401' })).toBeGreaterThanOrEqual(3)
    expect(valueOf(text, 'http_request_duration_seconds_bucket', { ...start, le: '+Inf' })).toBeGreaterThanOrEqual(1)

    const wallet = (step: string) => valueOf(text, 'wallet_call_duration_seconds_count', { step, outcome: 'answered' }) ?? 0
    expect(wallet('creating the outgoing payment') - (valueOf(before, 'wallet_call_duration_seconds_count', { step: 'creating the outgoing payment', outcome: 'answered' }) ?? 0)).toBe(1)
    expect(wallet('continuing the outgoing-payment grant')).toBeGreaterThanOrEqual(1)
    expect(wallet('creating the quote on the buyer wallet')).toBeGreaterThanOrEqual(1)

    expect(valueOf(text, 'payments', { state: 'COMPLETED' })).toBeGreaterThanOrEqual(1)
    expect(valueOf(text, 'payments', { state: 'EXPIRED' })).toBe(0) // every state has a series
    // Four events of this payment wait for a receiver that is not there.
    expect(valueOf(text, 'webhook_outbox_pending')).toBeGreaterThanOrEqual(4)
    expect(valueOf(text, 'webhook_outbox_oldest_pending_age_seconds')).toBeGreaterThan(0)
    for (const job of ['deliver-webhooks', 'check-settlements', 'resume-finishes', 'clean-up-wallets', 'expire-abandoned-checkouts']) {
      expect(valueOf(text, 'worker_lag_seconds', { job }), job).toBeGreaterThanOrEqual(0)
      expect(valueOf(text, 'worker_due', { job }), job).toBeGreaterThanOrEqual(0)
    }
    expect(valueOf(text, 'worker_due', { job: 'deliver-webhooks' })).toBeGreaterThanOrEqual(1)
    expect(valueOf(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)

    // No id, offer, token or URL in any label: route patterns, step names, states and job names only.
    const row = await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })
    for (const secretOrId of [pendingId, 'offer-77', METRICS_TOKEN, API_TOKEN, row.incomingPaymentId!, row.outgoingPaymentId!, world.sandbox.origin]) {
      expect(text).not.toContain(secretOrId)
    }
    const labelValues = text.split('\n').flatMap((line) => [...line.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]))
    for (const value of labelValues) expect(value).not.toMatch(/[0-9A-HJKMNP-TV-Z]{26}|https?:|whsec_|v1\./)
  })

  it('labels a path no route matches as unmatched, not by its path', async () => {
    await world.service.request('/no/such/01JABCDEFGHJKMNPQRSTVWXYZ0')
    const text = await scrape()
    expect(valueOf(text, 'http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1)
    expect(text).not.toContain('01JABCDEFGHJKMNPQRSTVWXYZ0')
  })

  it('counts methods the service does not answer (PROPFIND, MKCOL, ...) as "other", so a caller cannot add series', async () => {
    for (const method of ['PROPFIND', 'MKCOL', 'LOCK', 'PURGE']) await world.service.request('/payments/x', { method, token: null })
    const text = await scrape()
    expect(valueOf(text, 'http_request_duration_seconds_count', { method: 'other' })).toBeGreaterThanOrEqual(4)
    expect(text).not.toMatch(/method="(PROPFIND|MKCOL|LOCK|PURGE)"/)
  })
})

describe('/metrics without METRICS_TOKENS', () => {
  it('answers the API token, and nothing without it', async () => {
    const service = await startTestService()
    try {
      expect((await service.request('/metrics', { token: null })).status).toBe(401)
      const res = await service.request('/metrics')
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('# TYPE http_request_duration_seconds histogram')
    } finally {
      await service.close()
    }
  })
})
