import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { generateJwk, type JWK } from '@interledger/http-signature-utils'

export interface SandboxIdentity {
  keyId: string
  privateKeyPath: string
  jwk: JWK
}

/**
 * Gives a wallet a signing identity: an Ed25519 private key as a PEM file in `dir` (mode 0600),
 * created once and reused afterwards, so restarting `npm start` keeps the same key id and key.
 */
export function createSandboxIdentity(opts: { dir: string; walletName: string; keyId?: string }): SandboxIdentity {
  const keyId = opts.keyId ?? `sandbox-${opts.walletName}`
  if (!/^[A-Za-z0-9._-]+$/.test(keyId)) throw new Error(`key id "${keyId}" cannot name a file`)
  const dir = resolve(opts.dir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const privateKeyPath = resolve(dir, `${keyId}.pem`)
  if (!existsSync(privateKeyPath)) {
    const { privateKey } = generateKeyPairSync('ed25519')
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    // 'wx' fails if another process created the file meanwhile; then that file is the identity.
    try {
      writeFileSync(privateKeyPath, pem, { mode: 0o600, flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  const privateKey = createPrivateKey(readFileSync(privateKeyPath))
  return { keyId, privateKeyPath, jwk: generateJwk({ privateKey, keyId }) }
}
