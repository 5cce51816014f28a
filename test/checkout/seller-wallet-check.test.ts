// Seller registration checks the seller's wallet: the key id must be published in its jwks.json,
// and the published key must be the public half of the private key file.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSandboxIdentity } from '../../src/sandbox/identities.js'
import { writeEd25519Key } from '../harness.js'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

const register = (body: Record<string, unknown>) => world.service.request('/sellers', { method: 'POST', json: { id: 'checked', ...body } })

it('accepts a key the wallet publishes', async () => {
  const identity = createSandboxIdentity({ dir: world.service.keysDir, walletName: 'seller', keyId: 'published-key' })
  world.sandbox.addClientKey('seller', identity.jwk)
  const res = await register({ walletAddressUrl: world.sandbox.walletAddressUrl('seller'), keyId: identity.keyId, privateKeyPath: identity.privateKeyPath })
  expect(res.status).toBe(201)
})

it('refuses a key id the wallet does not publish, naming keyId', async () => {
  const identity = createSandboxIdentity({ dir: world.service.keysDir, walletName: 'seller', keyId: 'never-published' })
  const res = await register({ walletAddressUrl: world.sandbox.walletAddressUrl('seller'), keyId: identity.keyId, privateKeyPath: identity.privateKeyPath })
  expect(res.status).toBe(400)
  expect(await res.json()).toMatchObject({ code: 'SELLER_KEY_MISMATCH', details: { field: 'keyId' } })
})

it('refuses a private key that is not the published one, naming privateKeyPath', async () => {
  const other = writeEd25519Key(world.service.keysDir, 'impostor.key')
  const res = await register({ walletAddressUrl: world.sandbox.walletAddressUrl('seller'), keyId: 'published-key', privateKeyPath: other.file })
  expect(res.status).toBe(400)
  expect(await res.json()).toMatchObject({ code: 'SELLER_KEY_MISMATCH', details: { field: 'privateKeyPath' } })
})

it('refuses an unreachable wallet with a 400 naming walletAddressUrl, and changes nothing', async () => {
  const before = await world.service.db.seller.findMany()
  const key = writeEd25519Key(world.service.keysDir, 'lonely.key')
  const res = await register({ id: 'unreachable', walletAddressUrl: 'https://localhost:1/seller', keyId: 'k', privateKeyPath: key.file })
  expect(res.status).toBe(400)
  expect(await res.json()).toMatchObject({ code: 'SELLER_WALLET_UNREACHABLE', details: { field: 'walletAddressUrl' } })
  expect(await world.service.db.seller.findMany()).toEqual(before)
})
