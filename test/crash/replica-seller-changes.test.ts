// A seller re-registered through one process: the other process on the same database drops what it
// caches for that seller (its signing client, its grant tokens) instead of reusing tokens granted
// to the old identity. PostgreSQL: at once (NOTIFY); SQLite: within SELLER_CHANGES_POLL_MS.
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSandboxIdentity } from '../../src/sandbox/identities.js'
import { SELLER_CHANGES_POLL_MS } from '../../src/sellers/changes.js'
import { testProvider } from '../database.js'
import { makeTempDir } from '../harness.js'
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-harness.js'
import { childServiceEnv, registerSeller, SELLER_ID, spawnService, useChildServices, type ChildService } from './child-service.js'

useChildServices()

let wallet: TestSandbox
let dir: string
let env: Record<string, string>
let services: ChildService[] = []

beforeAll(async () => {
  wallet = await startTestSandbox({ continueWaitSeconds: 0 })
  dir = makeTempDir('replica-seller-changes-')
  env = await childServiceEnv(dir)
  services = await Promise.all([spawnService('service A', env), spawnService('service B', env)])
  await registerSeller(services[0], wallet.sandbox, env.KEYS_DIR)
}, 60_000)

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop()))
  await wallet?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

async function startCheckout(service: ChildService): Promise<void> {
  const res = await service.request('/offers/seller-changes/quotes/start', {
    method: 'POST',
    json: { sellerId: SELLER_ID, buyerWalletAddressUrl: wallet.sandbox.walletAddressUrl('buyer'), amount: '100' },
  })
  expect(res.status, await res.clone().text()).toBe(200)
}

/** Grant requests the wallet received while `run` ran. */
async function grantsDuring(run: () => Promise<void>): Promise<number> {
  const before = wallet.sandbox.counts().grants
  await run()
  return wallet.sandbox.counts().grants - before
}

describe('a seller changed through another process', () => {
  it('is not served from stale caches: the next checkout on the other process asks for new grant tokens', async () => {
    const [a, b] = services
    // On SQLite B's polls drop the seller's entries once for its registration through A (B cannot
    // tell whether what it caches predates it): let them pass before warming B's caches.
    if (testProvider !== 'postgresql') await new Promise((resolve) => setTimeout(resolve, 2 * SELLER_CHANGES_POLL_MS))
    await startCheckout(b) // B now caches the seller's client and its grant tokens
    // Warm: one grant per checkout, the buyer's interactive one.
    expect(await grantsDuring(() => startCheckout(b))).toBe(1)

    // Through A: a new key for the seller.
    const rotated = createSandboxIdentity({ dir: env.KEYS_DIR, walletName: 'seller', keyId: 'rotated-key' })
    wallet.sandbox.addClientKey('seller', rotated.jwk)
    const res = await a.request('/sellers', {
      method: 'POST',
      json: { id: SELLER_ID, walletAddressUrl: wallet.sandbox.walletAddressUrl('seller'), keyId: rotated.keyId, privateKeyPath: rotated.privateKeyPath },
    })
    expect(res.status).toBe(201)
    await new Promise((resolve) => setTimeout(resolve, testProvider === 'postgresql' ? 300 : SELLER_CHANGES_POLL_MS + 500))

    // B forgot the tokens granted to the old identity: new incoming-payment and quote grants, then the interactive one.
    expect(await grantsDuring(() => startCheckout(b))).toBe(3)
    expect(await grantsDuring(() => startCheckout(b))).toBe(1)
    expect(await wallet.invalidResponses()).toEqual([])
  }, 30_000)
})
