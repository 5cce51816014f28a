// Seller private keys are files inside KEYS_DIR. The path a caller gives is resolved from the
// working directory (as the original service and the Open Payments SDK did), then must still lie
// inside KEYS_DIR after following symlinks. Key material never leaves this module except as a
// KeyObject handed to the SDK.
import crypto, { type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { AppError } from '../errors.js'

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
}

/** Resolves `privateKeyPath` to a real file inside `keysDir`, or throws a 400 naming the problem. */
export function resolveKeyFile(keysDir: string, privateKeyPath: string): string {
  const realKeysDir = fs.existsSync(keysDir) ? fs.realpathSync(keysDir) : path.resolve(keysDir)
  const requested = path.resolve(privateKeyPath)
  const outside = () =>
    new AppError('INVALID_KEY_PATH', 'privateKeyPath must point to a file inside the keys directory (KEYS_DIR)', {
      field: 'privateKeyPath',
    })
  if (privateKeyPath.includes('\0') || !isInside(path.resolve(keysDir), requested) && !isInside(realKeysDir, requested)) {
    throw outside()
  }
  let real: string
  try {
    real = fs.realpathSync(requested)
  } catch {
    throw new AppError('KEY_NOT_FOUND', 'privateKeyPath does not name an existing file', { field: 'privateKeyPath' })
  }
  // A symlink inside KEYS_DIR that points elsewhere is refused too.
  if (!isInside(realKeysDir, real)) throw outside()
  if (!fs.statSync(real).isFile()) {
    throw new AppError('KEY_NOT_FOUND', 'privateKeyPath does not name a file', { field: 'privateKeyPath' })
  }
  return real
}

/** Loads an Ed25519 private key (PEM or DER-in-PEM PKCS#8), refusing anything else. */
export function loadPrivateKey(keysDir: string, privateKeyPath: string): KeyObject {
  const file = resolveKeyFile(keysDir, privateKeyPath)
  let key: KeyObject
  try {
    const stat = fs.statSync(file)
    if (stat.size > 16 * 1024) throw new Error('too large')
    key = crypto.createPrivateKey(fs.readFileSync(file))
  } catch {
    throw new AppError('INVALID_KEY', 'privateKeyPath is not a readable private key (an Ed25519 PEM file is expected)', {
      field: 'privateKeyPath',
    })
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AppError('INVALID_KEY', `privateKeyPath holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; Open Payments needs Ed25519`, {
      field: 'privateKeyPath',
    })
  }
  return key
}

/** The public half as the `x` of an OKP JWK, to compare with a wallet's published JWKS. */
export function publicKeyX(privateKey: KeyObject): string {
  const jwk = crypto.createPublicKey(privateKey).export({ format: 'jwk' })
  return jwk.x as string
}
