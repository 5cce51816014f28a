// Issue 9, item 6: wallet URLs come from outsiders, so every connection a wallet call opens is
// checked when it is opened (src/open-payments/network-guard.ts): IPv6 forms that carry or route to
// a private IPv4 address, names that resolve elsewhere the second time (DNS rebinding), and
// redirects must never reach the service's own network.
import dns from 'node:dns'
import http from 'node:http'
import net from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startTestService, writeEd25519Key, type TestService } from '../harness.js'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'

/** A TCP listener on loopback that counts the connections it gets (what SSRF would reach). */
async function startCanary() {
  let connections = 0
  const server = net.createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

describe('a guarded instance (production switches)', () => {
  let service: TestService
  let canary: Awaited<ReturnType<typeof startCanary>>
  beforeAll(async () => {
    service = await startTestService({ OPEN_PAYMENTS_USE_HTTP: 'false', OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS: 'false', OPEN_PAYMENTS_TIMEOUT_MS: '1000' })
    const key = writeEd25519Key(service.keysDir, 'seller.key')
    await service.db.seller.create({ data: { id: 's', walletAddressUrl: 'https://wallet.example/s', keyId: 'k', privateKeyPath: key.file } })
    canary = await startCanary()
  })
  afterEach(() => vi.restoreAllMocks())
  afterAll(async () => {
    await service.close()
    await canary.close()
  })

  const start = (buyerWalletAddressUrl: string) =>
    service.request('/offers/1/quotes/start', { method: 'POST', json: { sellerId: 's', buyerWalletAddressUrl, amount: '100' } })

  it.each([
    ['IPv4-compatible', 'https://[::127.0.0.1]/b'],
    ['NAT64', 'https://[64:ff9b::7f00:1]/b'],
    ['NAT64 local use', 'https://[64:ff9b:1::a00:1]/b'],
    ['6to4', 'https://[2002:7f00:1::]/b'],
    ['Teredo', 'https://[2001:0:7f00:1::]/b'],
    ['IPv4-mapped, hex', 'https://[::ffff:7f00:1]/b'],
    ['IPv4-translated', 'https://[::ffff:0:7f00:1]/b'],
    ['unique local', 'https://[fd00::1]/b'],
    ['carrier-grade NAT', 'https://100.64.0.1/b'],
    ['decimal loopback', 'https://2130706433/b'],
  ])('refuses a buyer wallet at a %s address (%s) with 400, and calls nothing', async (_name, url) => {
    const res = await start(url)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'INVALID_WALLET_ADDRESS', details: { field: 'buyerWalletAddressUrl' } })
    expect(await service.db.payment.count()).toBe(0)
  })

  it('a name that resolves to a public address first and to loopback next (DNS rebinding) never reaches loopback', async () => {
    // The attacker's DNS (TTL 0) answers a public address to the first lookups (what a check before
    // the call would see) and the canary on loopback afterwards (what the call would connect to).
    const answers = new Map<string, number>()
    const answer = (host: string) => {
      const n = (answers.get(host) ?? 0) + 1
      answers.set(host, n)
      return n <= 2 ? { address: '93.184.216.34', family: 4 } : { address: '127.0.0.1', family: 4 }
    }
    vi.spyOn(dns, 'lookup').mockImplementation(((host: string, options: any, callback: any) => {
      // Any other name (the seller's wallet.example) does not exist: no DNS server is asked.
      if (!host.endsWith('.rebind.test')) return process.nextTick(() => callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND', hostname: host })))
      const a = answer(host)
      return options?.all ? callback(null, [a]) : callback(null, a.address, a.family)
    }) as typeof dns.lookup)
    vi.spyOn(dns.promises, 'lookup').mockImplementation((async (host: string, options: any) => {
      const a = answer(host)
      return options?.all ? [a] : a
    }) as typeof dns.promises.lookup)

    const res = await start(`https://wallet.rebind.test:${canary.port}/bob`)
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(canary.connections()).toBe(0)
    expect(await service.db.payment.count()).toBe(0)
  })

  it('a name that resolves to loopback is refused when the connection is opened, naming the field', async () => {
    vi.spyOn(dns, 'lookup').mockImplementation(((_host: string, options: any, callback: any) =>
      options?.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)) as typeof dns.lookup)
    vi.spyOn(dns.promises, 'lookup').mockResolvedValue([{ address: '127.0.0.1', family: 4 }] as never)
    const res = await start(`https://wallet.private.test:${canary.port}/bob`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'INVALID_WALLET_ADDRESS', details: { field: 'buyerWalletAddressUrl' } })
    expect(canary.connections()).toBe(0)
  })
})

describe('redirects (development switches, so that everything runs on loopback)', () => {
  let world: CheckoutWorld
  let target: Awaited<ReturnType<typeof startCanary>>
  let redirector: http.Server
  let redirectorPort: number
  beforeAll(async () => {
    world = await startCheckoutWorld()
    target = await startCanary()
    redirector = http.createServer((_req, res) => {
      res.writeHead(302, { location: `http://localhost:${target.port}/bob` }).end()
    })
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve))
    redirectorPort = (redirector.address() as net.AddressInfo).port
  })
  afterAll(async () => {
    await world.close()
    await target.close()
    await new Promise((resolve) => redirector.close(resolve))
  })

  it('a wallet answering with a redirect is not followed: 502 saying so, the target is never contacted', async () => {
    const res = await world.start({ buyerWalletAddressUrl: `http://localhost:${redirectorPort}/bob` }, { offerId: 'redirect-1' })
    expect(res.status).toBe(502)
    const body = await res.json()
    expect(body).toMatchObject({ code: 'WALLET_REFUSED', details: { walletStatus: 302, field: 'buyerWalletAddressUrl' } })
    expect(body.error).toMatch(/redirect/)
    expect(target.connections()).toBe(0)
  })
})
