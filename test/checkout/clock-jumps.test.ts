// The service's clock may lag or jump back (an NTP step, a test clock): waits slept for real,
// counted on it, stay bounded by what the wallet asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestClock } from '../sandbox/sandbox-harness.js'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

const clock = createTestClock()
let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld({ clock }) // the wallet asks to wait 1 s before continuing a grant
})
afterAll(() => world?.close())

describe('a service clock that jumps back', () => {
  it('waits at most the wallet’s continue wait before continuing the grant, not the hour the clock went back', async () => {
    const { pendingId, redirectUrl } = await world.startOk()
    clock.advance(-60 * 60_000) // the grant was requested "an hour from now"
    const startedAt = Date.now()
    const finished = await fetch(await world.approve(redirectUrl))
    expect(finished.status).toBe(200)
    expect(await finished.json()).toMatchObject({ ok: true, pendingId })
    expect(Date.now() - startedAt).toBeLessThan(10_000)
  })
})
