// A signature must cover what it authorises (RFC 9635 §7.3.1): the body through content-digest,
// and it must be fresh. A signature over method and URL alone cannot carry any body.
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createHeaders, createSignatureHeaders } from '@interledger/http-signature-utils'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { createSandboxIdentity } from '../../src/sandbox/identities.js'
import { type TestSandbox, useTestSandbox } from './sandbox-harness.js'

const sandboxes = useTestSandbox()
let t: TestSandbox
beforeEach(() => {
  t = sandboxes.current()
})
afterEach(() => vi.useRealTimers())

async function signGrantRequest(body: string, sign: { withBody: boolean }): Promise<[string, RequestInit]> {
  const identity = createSandboxIdentity({ dir: t.keysDir, walletName: 'seller', keyId: 'coverage-key' })
  t.sandbox.addClientKey('seller', identity.jwk)
  const privateKey = crypto.createPrivateKey(fs.readFileSync(identity.privateKeyPath))
  const url = `${t.sandbox.origin}/auth`
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (sign.withBody) {
    // What the SDK sends: content-digest and content-length, all of it signed.
    const signed = await createHeaders({ request: { method: 'POST', url, headers, body }, privateKey, keyId: identity.keyId })
    return [url, { method: 'POST', headers: { ...headers, ...Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), String(v)])) }, body }]
  }
  const signature = await createSignatureHeaders({ request: { method: 'POST', url, headers }, privateKey, keyId: identity.keyId })
  return [url, { method: 'POST', headers: { ...headers, signature: signature.Signature, 'signature-input': signature['Signature-Input'] }, body }]
}

const send = async (signing: Promise<[string, RequestInit]>) => fetch(...(await signing))

const grantBody = () =>
  JSON.stringify({ access_token: { access: [{ type: 'quote', actions: ['create', 'read'] }] }, client: t.sandbox.walletAddressUrl('seller') })

it('accepts a signature that covers the body', async () => {
  expect((await send(signGrantRequest(grantBody(), { withBody: true }))).status).toBe(200)
})

it('refuses a body the signature does not cover (no content-digest component)', async () => {
  const res = await send(signGrantRequest(grantBody(), { withBody: false }))
  expect(res.status).toBe(401)
  expect((await res.json()).error).toMatchObject({ code: 'invalid_client', description: 'invalid signature' })
  expect(t.sandbox.counts().grants).toBe(0)
})

it('refuses a stale signature (created more than 5 minutes ago)', async () => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(Date.now() - 10 * 60_000) // the signer's clock: created= ten minutes ago
  const signed = await signGrantRequest(grantBody(), { withBody: true })
  vi.useRealTimers() // the sandbox (same process) judges with the real clock
  const res = await fetch(...signed)
  expect(res.status).toBe(401)
  expect(t.sandbox.counts().grants).toBe(0)
})
