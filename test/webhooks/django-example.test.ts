// The Django example (examples/django) against the running service: real deliveries verified by the
// Python implementation of Standard Webhooks, one record per event id even when delivered twice, and
// forged, unsigned, tampered or stale deliveries refused with 4xx and not recorded.
// Needs Debian's python3-django (.ci/run installs it): the suite fails without it in CI, skips elsewhere.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWebhookSigner } from '../../src/webhooks/signing.js'
import { findFreePort, makeTempDir, startTestService, type TestService, waitFor } from '../harness.js'
import { changePaymentState, createTestPayment, newWebhookSecret } from './webhook-harness.js'

const exampleDir = path.resolve(import.meta.dirname, '../../examples/django')
// Debian's Django is installed for /usr/bin/python3, which may not be the python3 first on PATH.
const python = ['/usr/bin/python3', 'python3'].find((bin) => spawnSync(bin, ['-c', 'import django']).status === 0)

if (!python && process.env.CI) {
  describe('Django example', () => {
    it('needs python3-django in CI (apt-get install python3-django)', () => {
      throw new Error('Django is not installed: neither /usr/bin/python3 nor python3 can import django')
    })
  })
}

describe.skipIf(!python)('Django example', () => {
  const serviceSecrets = [newWebhookSecret(), newWebhookSecret()]
  // Mid-rotation on the Django side too: it knows the service's second secret and one of its own.
  const djangoSecrets = [newWebhookSecret(), serviceSecrets[1]]
  let django: ChildProcess
  let djangoUrl: string
  let djangoOutput = ''
  let djangoDb: string
  let service: TestService

  const recorded = (eventId: string) => {
    const sqlite = new Database(djangoDb, { readonly: true })
    try {
      return sqlite.prepare('SELECT event_id, type, pending_id, status FROM payments_webhooks_paymentevent WHERE event_id = ?').all(eventId)
    } finally {
      sqlite.close()
    }
  }

  beforeAll(async () => {
    const dir = makeTempDir('django-example-')
    djangoDb = path.join(dir, 'marketplace.sqlite3')
    const env = {
      ...process.env,
      MARKETPLACE_DB_PATH: djangoDb,
      PAYMENTS_WEBHOOK_SECRETS: djangoSecrets.join(','),
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
    }
    execFileSync(python!, ['manage.py', 'migrate', '--noinput'], { cwd: exampleDir, env, stdio: 'pipe' })
    const port = await findFreePort()
    djangoUrl = `http://127.0.0.1:${port}`
    django = spawn(python!, ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload'], { cwd: exampleDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    django.stdout!.on('data', (d) => (djangoOutput += d))
    django.stderr!.on('data', (d) => (djangoOutput += d))
    await waitFor(
      () => fetch(`${djangoUrl}/api/webhooks/payments`).then((res) => res.status === 405, () => false),
      15_000,
    ).catch((error) => {
      throw new Error(`Django did not start: ${error.message}\n${djangoOutput}`)
    })
    service = await startTestService({ DJANGO_BASE_URL: djangoUrl, WEBHOOK_SECRET: serviceSecrets.join(','), WEBHOOK_POLL_INTERVAL_MS: '3600000' })
  }, 40_000)

  afterAll(async () => {
    await service?.close()
    django?.kill('SIGTERM')
  })

  const eventStatus = async (id: string) => (await service.db.webhookEvent.findUniqueOrThrow({ where: { id } })).status

  it('accepts a signed delivery and records an event once even when it is delivered twice', async () => {
    const payment = await createTestPayment(service)
    const event = await changePaymentState(service, payment, 'COMPLETED', { wake: true })
    await waitFor(async () => (await eventStatus(event.id)) === 'DELIVERED', 10_000)
    expect(recorded(event.id)).toEqual([{ event_id: event.id, type: 'payment.completed', pending_id: payment.id, status: 'paid' }])

    const res = await service.graphql(`mutation($id: ID!) { redeliverWebhookEvent(input: {id: $id}) { __typename } }`, { id: event.id })
    expect(res.data.redeliverWebhookEvent.__typename).toBe('RedeliverWebhookEventPayload')
    await waitFor(async () => {
      const row = await service.db.webhookEvent.findUniqueOrThrow({ where: { id: event.id } })
      return row.status === 'DELIVERED' && row.deliveredAt! > event.createdAt && row.attempts === 1 && row.lastStatusCode === 200
    }, 10_000)
    // Django answered 200 to both deliveries (its request log), and kept one record.
    await waitFor(() => (djangoOutput.match(/"POST \/api\/webhooks\/payments HTTP\/1\.1" 200/g)?.length ?? 0) >= 2).catch(() => {
      throw new Error(`Django's log:\n${djangoOutput}`)
    })
    expect(recorded(event.id)).toHaveLength(1)
  })

  it('refuses forged, unsigned, tampered and stale deliveries with 4xx and records none of them', async () => {
    const payment = await createTestPayment(service)
    const body = (id: string) => JSON.stringify({ id, type: 'payment.completed', pendingId: payment.id, offerId: 'offer-42', status: 'paid', outgoingPaymentId: null, timestamp: new Date().toISOString() })
    const post = (payload: string, headers: Record<string, string | undefined>) =>
      fetch(`${djangoUrl}/api/webhooks/payments`, {
        method: 'POST',
        headers: Object.fromEntries(Object.entries({ 'content-type': 'application/json', ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>,
        body: payload,
      })
    const signWith = (secret: string, id: string, payload: string, at = new Date()) => createWebhookSigner([secret])(id, at, payload)

    const unsigned = body('forged-unsigned')
    const attempts: Array<[string, string, Record<string, string | undefined>]> = [
      ['forged-unsigned', unsigned, { 'webhook-id': 'forged-unsigned', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) }],
      ['forged-key', body('forged-key'), signWith(newWebhookSecret(), 'forged-key', body('forged-key'))],
      ['forged-stale', body('forged-stale'), signWith(serviceSecrets[1], 'forged-stale', body('forged-stale'), new Date(Date.now() - 6 * 60_000))],
      ['forged-future', body('forged-future'), signWith(serviceSecrets[1], 'forged-future', body('forged-future'), new Date(Date.now() + 6 * 60_000))],
    ]
    const genuine = body('tampered')
    const tampered = genuine.replace('"paid"', '"failed"')
    attempts.push(['tampered', tampered, signWith(serviceSecrets[1], 'tampered', genuine)])

    for (const [id, payload, headers] of attempts) {
      const res = await post(payload, headers)
      expect(res.status, id).toBeGreaterThanOrEqual(400)
      expect(res.status, id).toBeLessThan(500)
      expect(recorded(id), id).toEqual([])
    }

    // The same request, properly signed with a secret Django knows, is accepted: the refusals above are the signature check.
    const ok = await post(genuine, signWith(serviceSecrets[1], 'tampered', genuine))
    expect(ok.status).toBe(200)
    expect(recorded('tampered')).toHaveLength(1)
  })
})
