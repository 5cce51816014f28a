// Buyer wallet URLs are chosen by whoever calls the API: the service must not be steered into
// its own network. Here the service runs without the development switches.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startTestService, writeEd25519Key, type TestService } from '../harness.js'

let service: TestService
beforeAll(async () => {
  service = await startTestService({ OPEN_PAYMENTS_USE_HTTP: 'false', OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS: 'false' })
  const key = writeEd25519Key(service.keysDir, 'seller.key')
  await service.db.seller.create({ data: { id: 's', walletAddressUrl: 'https://wallet.example/s', keyId: 'k', privateKeyPath: key.file } })
})
afterAll(() => service.close())

const start = (buyerWalletAddressUrl: string) =>
  service.request('/offers/1/quotes/start', { method: 'POST', json: { sellerId: 's', buyerWalletAddressUrl, amount: '100' } })

it.each([
  'https://127.0.0.1/bob',
  'https://127.9.9.9/bob',
  'https://10.1.2.3/bob',
  'https://172.20.0.1/bob',
  'https://192.168.1.1/bob',
  'https://169.254.169.254/latest/meta-data',
  'https://[::1]/bob',
  'https://[fe80::1]/bob',
  'https://[::ffff:127.0.0.1]/bob',
  'https://localhost/bob',
  'https://0.0.0.0/bob',
])('refuses %s with 400 before calling it', async (url) => {
  const res = await start(url)
  expect(res.status).toBe(400)
  expect(await res.json()).toMatchObject({ code: 'INVALID_WALLET_ADDRESS', details: { field: 'buyerWalletAddressUrl' } })
  expect(await service.db.payment.count()).toBe(0)
})

it('refuses plain http without OPEN_PAYMENTS_USE_HTTP, and URLs with credentials', async () => {
  for (const url of ['http://wallet.example/bob', 'https://user:pass@wallet.example/bob', 'javascript:alert(1)']) {
    const res = await start(url)
    expect(res.status, url).toBe(400)
    expect((await res.json()).code).toBe('INVALID_WALLET_ADDRESS')
  }
})
