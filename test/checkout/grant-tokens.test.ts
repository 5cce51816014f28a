// Non-interactive grant tokens are cached per seller and auth server, and rotated at their manage
// URL shortly before they expire, instead of a new grant per call.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  // 62 s tokens: fresh at first, within the 60 s rotation margin a couple of seconds later.
  world = await startCheckoutWorld({ sandbox: { accessTokenLifetimeSeconds: 62 } })
})
afterAll(() => world.close())

const rotations = () => world.exchanges.filter((e) => e.method === 'POST' && e.path.startsWith('/auth/token/')).length

it('reuses the incoming-payment and quote tokens, then rotates them instead of asking for new grants', async () => {
  await world.startOk({}, 'tokens-1')
  const grantsAfterFirst = world.sandbox.counts().grants
  await world.startOk({}, 'tokens-2')
  // Only the interactive outgoing-payment grant is new.
  expect(world.sandbox.counts().grants - grantsAfterFirst).toBe(1)
  expect(rotations()).toBe(0)

  await new Promise((resolve) => setTimeout(resolve, 2500))
  await world.startOk({}, 'tokens-3')
  expect(rotations()).toBe(2) // incoming-payment token (seller side) and quote token (buyer side)
  expect(world.sandbox.counts().grants - grantsAfterFirst).toBe(2)
  expect(await world.invalidResponses()).toEqual([])
})
