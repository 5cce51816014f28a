// Issue 9, item 7: a buyer wallet URL that names no wallet, or a host that does not exist, is the
// caller's mistake: a 4xx that says what is wrong. A wallet that fails or times out stays 502/504.
import dns from 'node:dns'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterEach(() => {
  vi.restoreAllMocks()
  world.sandbox.faults.clear()
})
afterAll(() => world.close())

it('a wallet address the wallet does not know (404) is a 400 "no wallet address at …"', async () => {
  const url = world.sandbox.walletAddressUrl('nobody-here')
  const res = await world.start({ buyerWalletAddressUrl: url }, { offerId: 'mistake-404' })
  expect(res.status).toBe(400)
  const body = await res.json()
  expect(body).toMatchObject({ code: 'WALLET_ADDRESS_NOT_FOUND', details: { field: 'buyerWalletAddressUrl' } })
  expect(body.error).toBe(`There is no wallet address at ${url} (buyerWalletAddressUrl)`)
  expect(await world.service.db.payment.count({ where: { offerId: 'mistake-404' } })).toBe(0)
})

it('a host that does not resolve is a 400 "host … does not resolve"', async () => {
  // .invalid never resolves (RFC 6761); the lookup is answered here so that no DNS server is asked.
  const realLookup = dns.lookup
  vi.spyOn(dns, 'lookup').mockImplementation(((host: string, options: any, callback: any) => {
    if (!host.endsWith('.invalid')) return (realLookup as any)(host, options, callback)
    const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host })
    process.nextTick(() => callback(error))
  }) as typeof dns.lookup)
  const res = await world.start({ buyerWalletAddressUrl: 'http://wallet.no-such-host.invalid/bob' }, { offerId: 'mistake-dns' })
  expect(res.status).toBe(400)
  const body = await res.json()
  expect(body).toMatchObject({ code: 'WALLET_HOST_NOT_FOUND', details: { field: 'buyerWalletAddressUrl', host: 'wallet.no-such-host.invalid' } })
  expect(body.error).toMatch(/^The wallet host wallet\.no-such-host\.invalid does not resolve/)
})

it('a wallet that fails is still a 502, and one that does not answer a 504', async () => {
  // No test before this one read the buyer's wallet address, so it is not cached yet.
  world.sandbox.faults.add({ path: new URL(world.buyer).pathname, method: 'GET', status: 500 })
  const failing = await world.start({}, { offerId: 'mistake-500' })
  expect(failing.status).toBe(502)
  expect((await failing.json()).code).toBe('WALLET_REFUSED')
  world.sandbox.faults.clear()
  world.sandbox.faults.add({ path: '/rs/quotes', method: 'POST', hang: true })
  const hanging = await world.start({}, { offerId: 'mistake-hang' })
  expect(hanging.status).toBe(504)
  expect((await hanging.json()).code).toBe('WALLET_TIMEOUT')
})
