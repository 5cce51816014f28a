// Test harness for the sandbox wallet: a sandbox on a random port with a controllable clock, SDK
// clients signing as its wallets, and a check of every response it served against the official
// Open Payments OpenAPI files (the SDK itself only validates successful answers).
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  createAuthenticatedClient,
  getAuthServerOpenAPI,
  getResourceServerOpenAPI,
  getWalletAddressServerOpenAPI,
  isPendingGrant,
  OpenPaymentsClientError,
  type AuthenticatedClient,
} from '@interledger/open-payments'
import { afterEach, beforeEach, expect } from 'vitest'
import { HttpMethod, type OpenAPI } from '@interledger/openapi'
import { startSandbox, type Sandbox, type SandboxExchange, type SandboxOptions } from '../../src/sandbox/server.js'
import { createSandboxIdentity } from '../../src/sandbox/identities.js'

export interface TestClock {
  now(): Date
  advance(ms: number): void
}

export function createTestClock(): TestClock {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), advance: (ms) => void (offset += ms) }
}

export interface TestSandbox {
  sandbox: Sandbox
  clock: TestClock
  keysDir: string
  exchanges: SandboxExchange[]
  /** An SDK client acting as `walletName`, its key published in that wallet's jwks.json. */
  clientFor(walletName: string, opts?: { keyId?: string; publish?: boolean; requestTimeoutMs?: number }): Promise<AuthenticatedClient>
  /** Every Open Payments response served so far that does not match the specification. */
  invalidResponses(): Promise<string[]>
  close(): Promise<void>
}

export async function startTestSandbox(opts: SandboxOptions = {}): Promise<TestSandbox> {
  const clock = createTestClock()
  const exchanges: SandboxExchange[] = []
  const sandbox = await startSandbox({ now: clock.now, fundingDelayMs: 20, ...opts, onResponse: (e) => exchanges.push(e) })
  sandbox.addWallet({ name: 'seller', publicName: 'Seller Shop' })
  sandbox.addWallet({ name: 'buyer', publicName: 'Buyer', balance: 1_000_000n })
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-keys-'))

  return {
    sandbox,
    clock,
    keysDir,
    exchanges,
    async clientFor(walletName, clientOpts = {}) {
      const identity = createSandboxIdentity({ dir: keysDir, walletName, keyId: clientOpts.keyId })
      if (clientOpts.publish !== false) sandbox.addClientKey(walletName, identity.jwk)
      return createAuthenticatedClient({
        walletAddressUrl: sandbox.walletAddressUrl(walletName),
        keyId: identity.keyId,
        privateKey: identity.privateKeyPath,
        useHttp: true,
        validateResponses: true,
        requestTimeoutMs: clientOpts.requestTimeoutMs ?? 5000,
        logLevel: 'silent',
      })
    },
    invalidResponses: () => findInvalidResponses(exchanges),
    async close() {
      await sandbox.close()
      fs.rmSync(keysDir, { recursive: true, force: true })
    },
  }
}

let specs: Promise<{ as: OpenAPI; rs: OpenAPI; wa: OpenAPI }> | undefined

function loadSpecs() {
  specs ??= Promise.all([getAuthServerOpenAPI(), getResourceServerOpenAPI(), getWalletAddressServerOpenAPI()]).then(
    ([as, rs, wa]) => ({ as, rs, wa }),
  )
  return specs
}

/** Maps a sandbox path to the specification and path template that describe it. */
function specPathOf(path: string): { spec: 'as' | 'rs' | 'wa'; template: string } | undefined {
  if (path.startsWith('/interact/') || path.startsWith('/sandbox/')) return undefined
  if (path === '/auth' || path === '/auth/') return { spec: 'as', template: '/' }
  const auth = /^\/auth\/(continue|token)\/[^/]+$/.exec(path)
  if (auth) return { spec: 'as', template: `/${auth[1]}/{id}` }
  const rs = /^\/rs(\/[a-z-]+)(\/[^/]+)?(\/complete)?$/.exec(path)
  if (rs) return { spec: 'rs', template: `${rs[1]}${rs[2] ? '/{id}' : ''}${rs[3] ?? ''}` }
  if (/^\/[^/]+\/jwks\.json$/.test(path)) return { spec: 'wa', template: '/jwks.json' }
  if (/^\/[^/]+$/.test(path)) return { spec: 'wa', template: '/' }
  return { spec: 'wa', template: path }
}

// Where Rafiki (PROTOCOL.md: "expired quote | 400") answers a status the OpenAPI file does not list
// for that operation. The sandbox follows the reference; its body must still be the spec's error
// shape, so it is checked as the operation's 403 (the same `error-response` schema).
// Rafiki also answers 409 "wrong state" when asked to complete an incoming payment that is
// already completed or expired (IncomingPaymentError.WrongState).
const REFERENCE_STATUSES_OUTSIDE_SPEC: Array<{ method: string; path: string | RegExp; status: number; checkAs: number }> = [
  { method: 'POST', path: '/rs/outgoing-payments', status: 400, checkAs: 403 },
  { method: 'POST', path: /^\/rs\/incoming-payments\/[^/]+\/complete$/, status: 409, checkAs: 404 },
]

async function findInvalidResponses(exchanges: SandboxExchange[]): Promise<string[]> {
  const loaded = await loadSpecs()
  const problems: string[] = []
  for (const e of exchanges) {
    const target = specPathOf(e.path)
    // Injected 5xx answers are deliberately outside the specification.
    if (!target || (e.status >= 500 && e.body.includes('injected fault'))) continue
    const label = `${e.method} ${e.path} ${e.status}`
    let body: unknown
    if (e.body) {
      if (!e.contentType?.includes('application/json')) {
        problems.push(`${label}: content-type ${e.contentType}`)
        continue
      }
      body = JSON.parse(e.body)
    }
    try {
      const validate = loaded[target.spec].createResponseValidator({
        path: target.template,
        method: e.method.toLowerCase() as (typeof HttpMethod)[keyof typeof HttpMethod],
      })
      const gap = REFERENCE_STATUSES_OUTSIDE_SPEC.find(
        (g) => g.method === e.method && (typeof g.path === 'string' ? g.path === e.path : g.path.test(e.path)) && g.status === e.status,
      )
      validate({ status: gap?.checkAs ?? e.status, body })
    } catch (err) {
      const errors = (err as { errors?: Array<{ message: string }> }).errors
      problems.push(`${label}: ${errors ? errors.map((x) => x.message).join('; ') : String(err)}`)
    }
  }
  return problems
}

/** Shaped like the service's finish URI (pendingId and finish secret): the wallet must keep both and append after them. */
export const FINISH_URI = 'http://localhost:3344/payments/finish?pendingId=01M8MG7MNS4XZBWB7SHEQQGKF5&secret=3q2-7wX_bW9yZS1yYW5kb20tYnl0ZXMtaGVyZS0xMjM0'

export interface Checkout {
  client: AuthenticatedClient
  incomingPayment: Awaited<ReturnType<AuthenticatedClient['incomingPayment']['create']>>
  quote: Awaited<ReturnType<AuthenticatedClient['quote']['create']>>
  clientNonce: string
  grant: Awaited<ReturnType<AuthenticatedClient['grant']['request']>>
}

/**
 * Protocol steps 1 to 4 of PROTOCOL.md with the seller as client: incoming payment at the seller,
 * quote at the buyer, interactive outgoing-payment grant limited to the quote and its receiver.
 */
export async function prepareCheckout(
  t: TestSandbox,
  opts: { amount?: string; limits?: Record<string, unknown>; client?: AuthenticatedClient; buyer?: string } = {},
): Promise<Checkout> {
  const client = opts.client ?? (await t.clientFor('seller'))
  const seller = await client.walletAddress.get({ url: t.sandbox.walletAddressUrl('seller') })
  const buyer = await client.walletAddress.get({ url: t.sandbox.walletAddressUrl(opts.buyer ?? 'buyer') })
  const incomingGrant = await client.grant.request(
    { url: seller.authServer },
    { access_token: { access: [{ type: 'incoming-payment', actions: ['create', 'read', 'complete'] }] } },
  )
  if (!('access_token' in incomingGrant) || !incomingGrant.access_token) throw new Error('expected a token')
  const incomingPayment = await client.incomingPayment.create(
    { url: seller.resourceServer, accessToken: incomingGrant.access_token.value },
    {
      walletAddress: seller.id,
      incomingAmount: { value: opts.amount ?? '100', assetCode: seller.assetCode, assetScale: seller.assetScale },
      expiresAt: new Date(t.clock.now().getTime() + 10 * 60_000).toISOString(),
      metadata: { description: 'sandbox order', externalRef: 'order-1' },
    },
  )
  const quoteGrant = await client.grant.request(
    { url: buyer.authServer },
    { access_token: { access: [{ type: 'quote', actions: ['create', 'read'] }] } },
  )
  if (!('access_token' in quoteGrant) || !quoteGrant.access_token) throw new Error('expected a token')
  const quote = await client.quote.create(
    { url: buyer.resourceServer, accessToken: quoteGrant.access_token.value },
    { walletAddress: buyer.id, receiver: incomingPayment.id, method: 'ilp' },
  )
  const clientNonce = crypto.randomBytes(16).toString('hex')
  const grant = await client.grant.request(
    { url: buyer.authServer },
    {
      access_token: {
        access: [
          {
            type: 'outgoing-payment',
            actions: ['create', 'read', 'list'],
            identifier: buyer.id,
            limits: (opts.limits ?? { debitAmount: quote.debitAmount, receiver: incomingPayment.id }) as never,
          },
        ],
      },
      interact: { start: ['redirect'], finish: { method: 'redirect', uri: FINISH_URI, nonce: clientNonce } },
    },
  )
  return { client, incomingPayment, quote, clientNonce, grant }
}

export async function expectClientError(promise: Promise<unknown>, status: number, code?: string) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(OpenPaymentsClientError)
  expect((err as OpenPaymentsClientError).status).toBe(status)
  if (code) expect((err as OpenPaymentsClientError).code).toBe(code)
  return err as OpenPaymentsClientError
}

/** Approves the consent, waits out `continue.wait` on the test clock and continues the grant. */
export async function approveAndContinue(t: TestSandbox, checkout: Checkout) {
  const { grant, client } = checkout
  if (!isPendingGrant(grant)) throw new Error('expected an interactive grant')
  const interactRef = new URL(await t.sandbox.approve(grant.interact.redirect)).searchParams.get('interact_ref')!
  t.clock.advance(grant.continue.wait! * 1000)
  const continued = await client.grant.continue(
    { url: grant.continue.uri, accessToken: grant.continue.access_token.value },
    { interact_ref: interactRef },
  )
  if (!('access_token' in continued) || !continued.access_token) throw new Error('expected an access token')
  return continued.access_token
}

/** A non-interactive grant's access token. */
export async function requestToken(t: TestSandbox, client: AuthenticatedClient, access: unknown[]) {
  const grant = await client.grant.request({ url: `${t.sandbox.origin}/auth` }, { access_token: { access: access as never } })
  if (!('access_token' in grant) || !grant.access_token) throw new Error('expected an access token')
  return grant.access_token
}

export function resourceServerOf(t: TestSandbox): string {
  return `https://localhost:${new URL(t.sandbox.origin).port}/rs`
}

/**
 * Gives each test of the file a fresh sandbox, and fails the test if any response it served broke
 * the specification. Read `current()` inside tests; `restart(opts)` swaps in a differently
 * configured one.
 */
export function useTestSandbox() {
  let sandbox: TestSandbox
  beforeEach(async () => {
    sandbox = await startTestSandbox()
  })
  afterEach(async () => {
    expect(await sandbox.invalidResponses()).toEqual([])
    await sandbox.close()
  })
  return {
    current: () => sandbox,
    async restart(opts: SandboxOptions) {
      await sandbox.close()
      sandbox = await startTestSandbox(opts)
      return sandbox
    },
  }
}
