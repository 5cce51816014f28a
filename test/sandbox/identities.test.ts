import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createSandboxIdentity } from '../../src/sandbox/identities.js'

const dirs: string[] = []

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

it('creates a 0600 Ed25519 key once and reuses it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-identity-'))
  dirs.push(dir)
  const first = createSandboxIdentity({ dir: path.join(dir, 'keys'), walletName: 'seller' })
  expect(path.isAbsolute(first.privateKeyPath)).toBe(true)
  expect(fs.statSync(first.privateKeyPath).mode & 0o777).toBe(0o600)
  expect(crypto.createPrivateKey(fs.readFileSync(first.privateKeyPath)).asymmetricKeyType).toBe('ed25519')
  expect(first.jwk).toMatchObject({ kid: first.keyId, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' })
  expect(first.jwk).not.toHaveProperty('d')

  const again = createSandboxIdentity({ dir: path.join(dir, 'keys'), walletName: 'seller' })
  expect(again).toEqual(first)
  const other = createSandboxIdentity({ dir: path.join(dir, 'keys'), walletName: 'seller', keyId: 'second' })
  expect(other.jwk.x).not.toBe(first.jwk.x)
})
