// Shutting down finishes the requests in flight: a buyer coming back from the wallet while the
// service stops still gets their payment made, and new connections are refused.
import { expect, it } from 'vitest'
import { startCheckoutWorld } from './world.js'

it('finishes an in-flight finish request, then stops accepting', async () => {
  // A 2 s continue `wait` keeps the finish request in flight while the service stops.
  const world = await startCheckoutWorld({ sandbox: { continueWaitSeconds: 2 } })
  const { pendingId, redirectUrl } = await world.startOk({}, 'shutdown-1')
  const finishUrl = await world.approve(redirectUrl)

  const inFlight = fetch(finishUrl).then(async (res) => ({ status: res.status, body: await res.json() }))
  await new Promise((resolve) => setTimeout(resolve, 300))
  const closing = world.service.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  await expect(fetch(`${world.service.url}/health`)).rejects.toThrow()

  const answer = await inFlight
  expect(answer.status).toBe(200)
  expect(answer.body).toMatchObject({ ok: true, pendingId, state: 'PROCESSING' })
  await closing
  expect(world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
  await world.close().catch(() => {}) // the service is already closed; this stops the sandbox
}, 30_000)
