// Node's default process metrics are collected once per process (collectDefaultMetrics installs a
// GC observer and an event-loop delay monitor that are never stopped), and every service answers
// them beside its own metrics.
import * as promClient from 'prom-client'
import { describe, expect, it, vi } from 'vitest'

vi.mock('prom-client', async (importOriginal) => {
  const actual = await importOriginal<typeof import('prom-client')>()
  return { ...actual, collectDefaultMetrics: vi.fn(actual.collectDefaultMetrics) }
})

const { createMetrics } = await import('../../src/metrics.js')

const typeLines = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`# TYPE ${name} `))

describe('process metrics', () => {
  it('are collected once however many services are made, and scraped with each one’s own metrics', async () => {
    const services = [createMetrics(), createMetrics(), createMetrics()]
    expect(promClient.collectDefaultMetrics).toHaveBeenCalledTimes(1)
    for (const metrics of services) {
      const text = await metrics.scraped.metrics()
      expect(typeLines(text, 'process_cpu_user_seconds_total')).toHaveLength(1)
      expect(typeLines(text, 'nodejs_eventloop_lag_seconds')).toHaveLength(1)
      expect(typeLines(text, 'http_request_duration_seconds')).toHaveLength(1)
    }
    // Each service's own metrics stay its own.
    services[0]!.observeRequest('GET', '/x', 200, performance.now())
    const count = 'http_request_duration_seconds_count{method="GET",route="/x",status="200"} 1'
    expect(await services[0]!.scraped.metrics()).toContain(count)
    expect(await services[1]!.scraped.metrics()).not.toContain(count)
  })
})
