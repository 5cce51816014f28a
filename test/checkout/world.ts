// A checkout world: the sandbox wallet (seller + buyer, controllable clock, every response checked
// against the Open Payments specification) and a real service whose seller is registered on it.
import { createSandboxIdentity } from '../../src/sandbox/identities.js'
import type { Env } from '../../src/config.js'
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-harness.js'
import { startTestService, type TestService } from '../harness.js'
import type { SandboxOptions } from '../../src/sandbox/server.js'
import type { Clock } from '../../src/deps.js'

export const SELLER_ID = 'seller-1'

export interface CheckoutWorld extends TestSandbox {
  service: TestService
  buyer: string
  /** POST /offers/:offerId/quotes/start */
  start(body?: Record<string, unknown>, opts?: { offerId?: string; headers?: Record<string, string> }): Promise<Response>
  /** Starts a checkout and returns its JSON (asserting 200). */
  startOk(body?: Record<string, unknown>, offerId?: string): Promise<{ pendingId: string; redirectUrl: string; [k: string]: unknown }>
  /** The finish URL the wallet sends the browser to, pointed at this service. */
  atService(finishUrl: string): string
  /**
   * The finish URL a wallet sends the browser to with `params` appended to the finish URI the
   * service gave it (kept whole, with its pendingId and secret), pointed at this service: every
   * `result=` a wallet can send, without driving the wallet there.
   */
  walletRedirect(redirectUrl: string, params: Record<string, string>): string
  /** The checkout's finish secret, as the finish URI given to the wallet carries it. */
  finishSecretOf(redirectUrl: string): string
  approve(redirectUrl: string): Promise<string>
  reject(redirectUrl: string): Promise<string>
  close(): Promise<void>
}

export function serviceEnvForSandbox(): Partial<Env> {
  return {
    OPEN_PAYMENTS_USE_HTTP: 'true',
    OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS: 'true',
    VERIFY_SELLER_WALLET: 'true',
    OPEN_PAYMENTS_TIMEOUT_MS: '1500',
    SETTLEMENT_POLL_INTERVAL_MS: '100',
  }
}

/** `clock`: the time the service acts on (the sandbox wallet has its own, `clock` of the world). */
export async function startCheckoutWorld(opts: { sandbox?: SandboxOptions; env?: Partial<Env>; clock?: Clock } = {}): Promise<CheckoutWorld> {
  const wallet = await startTestSandbox({ continueWaitSeconds: 1, ...opts.sandbox })
  const service = await startTestService({ ...serviceEnvForSandbox(), ...opts.env }, { clock: opts.clock })
  const identity = createSandboxIdentity({ dir: service.keysDir, walletName: 'seller' })
  wallet.sandbox.addClientKey('seller', identity.jwk)
  const registered = await service.request('/sellers', {
    method: 'POST',
    json: { id: SELLER_ID, walletAddressUrl: wallet.sandbox.walletAddressUrl('seller'), keyId: identity.keyId, privateKeyPath: identity.privateKeyPath },
  })
  if (registered.status !== 201) throw new Error(`seller registration failed: ${await registered.text()}`)
  const buyer = wallet.sandbox.walletAddressUrl('buyer')

  const atService = (finishUrl: string) => {
    const url = new URL(finishUrl)
    return `${service.url}${url.pathname}${url.search}`
  }
  const start: CheckoutWorld['start'] = (body = {}, o = {}) =>
    service.request(`/offers/${o.offerId ?? 'job-1'}/quotes/start`, {
      method: 'POST',
      headers: o.headers,
      json: { sellerId: SELLER_ID, buyerWalletAddressUrl: buyer, amount: '100', ...body },
    })
  return {
    ...wallet,
    service,
    buyer,
    start,
    async startOk(body, offerId) {
      const res = await start(body, { offerId })
      if (res.status !== 200) throw new Error(`start failed ${res.status}: ${await res.text()}`)
      return res.json()
    },
    atService,
    walletRedirect: (redirectUrl, params) =>
      atService([wallet.sandbox.finishUriOf(redirectUrl), ...Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`)].join('&')),
    finishSecretOf: (redirectUrl) => new URL(wallet.sandbox.finishUriOf(redirectUrl)).searchParams.get('secret')!,
    approve: async (redirectUrl) => atService(await wallet.sandbox.approve(redirectUrl)),
    reject: async (redirectUrl) => atService(await wallet.sandbox.reject(redirectUrl)),
    async close() {
      await service.close()
      await wallet.close()
    },
  }
}
