// Non-interactive grant tokens are cached per seller and auth server, and rotated at their manage
// URL shortly before they expire, instead of a new grant per call.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  // 65 s tokens: fresh for the first 5 s, then within the 60 s rotation margin.
  world = await startCheckoutWorld({ sandbox: { accessTokenLifetimeSeconds: 65 } })
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

  await new Promise((resolve) => setTimeout(resolve, 5500))
  await world.startOk({}, 'tokens-3')
  expect(rotations()).toBe(2) // incoming-payment token (seller side) and quote token (buyer side)
  expect(world.sandbox.counts().grants - grantsAfterFirst).toBe(2)
  expect(await world.invalidResponses()).toEqual([])
})

it('rotates the outgoing-payment access token before checking settlement with it', async () => {
  world.sandbox.setFundingMode('manual')
  const { pendingId, redirectUrl } = await world.startOk({}, 'tokens-settle')
  const finished = await (await fetch(await world.approve(redirectUrl))).json()
  const stored = await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })
  expect(stored.accessTokenExpiresAt!.getTime() - Date.now()).toBeLessThan(65_000)

  const before = rotations()
  await new Promise((resolve) => setTimeout(resolve, 5500)) // now inside the 60 s rotation margin
  world.sandbox.fundOutgoingPayment(finished.outgoingPayment.id)
  await world.service.graphql(`mutation ($id: String!) { recheckPayment(pendingId: $id) { __typename } }`, { id: pendingId })
  await expect.poll(async () => (await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })).state, { timeout: 10_000 }).toBe('COMPLETED')
  expect(rotations()).toBeGreaterThan(before)
  const rotated = await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })
  expect(rotated.accessToken).not.toBe(stored.accessToken)
  expect(rotated.accessTokenExpiresAt!.getTime()).toBeGreaterThan(stored.accessTokenExpiresAt!.getTime())
})
