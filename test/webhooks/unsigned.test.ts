// Development without WEBHOOK_SECRET: deliveries still go out, unsigned, after one loud warning.
// Nothing wakes the dispatcher here: the periodic poll (the safety net) must find the event.
// (Its own file: a test service sets the process-wide config and database.)
import { describe, expect, it } from 'vitest'
import { startTestService, waitFor } from '../harness.js'
import { changePaymentState, createTestPayment, startReceiver } from './webhook-harness.js'

describe('without a secret (development)', () => {
  it('sends unsigned deliveries found by polling, and warns loudly once at start', async () => {
    const plain = await startReceiver()
    const dev = await startTestService({ DJANGO_BASE_URL: plain.url, NODE_ENV: 'development', WEBHOOK_POLL_INTERVAL_MS: '200' })
    try {
      expect(dev.logs.filter((line) => line.includes('WEBHOOK_SECRET IS NOT SET'))).toHaveLength(1)
      const payment = await createTestPayment(dev)
      await changePaymentState(dev, payment, 'COMPLETED')
      const [delivery] = await waitFor(() => plain.received.length === 1 && plain.received)
      expect(delivery.headers['webhook-id']).toBe(delivery.json.id)
      expect(delivery.headers['webhook-timestamp']).toMatch(/^\d+$/)
      expect(delivery.headers['webhook-signature']).toBeUndefined()
    } finally {
      await dev.close()
      await plain.close()
    }
  })
})
