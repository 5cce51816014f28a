// Secrets at rest: GNAP continuation tokens, access tokens and the client nonce are stored
// encrypted with AES-256-GCM under TOKEN_ENCRYPTION_KEY. Without that key (development only:
// config requires it in production and on PostgreSQL) a key is generated once beside the SQLite file.
// Each service has its own (createSecrets, held in deps.secrets): the key is read at its first use.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Config } from './config.js'
import { localSecretsFolder } from './db.js'

const VERSION = 'v1'

/** A service's token encryption (deps.secrets). */
export interface Secrets {
  encrypt(plaintext: string): string
  decrypt(stored: string): string
}

function readEncryptionKey(config: Config): Buffer {
  let key: Buffer
  if (config.tokenEncryptionKey) {
    key = Buffer.from(config.tokenEncryptionKey, 'base64')
  } else {
    const folder = localSecretsFolder(config.databaseUrl)
    if (!folder) throw new Error('TOKEN_ENCRYPTION_KEY is required on this database (src/config.ts checks it)')
    const file = path.join(folder, 'token-encryption.key')
    try {
      fs.writeFileSync(file, crypto.randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' })
    } catch (error) {
      // Another process generated it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')
  }
  if (key.length !== 32) throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes')
  return key
}

export function createSecrets(config: Config): Secrets {
  let key: Buffer | undefined
  const encryptionKey = () => (key ??= readEncryptionKey(config))
  return {
    encrypt(plaintext) {
      const iv = crypto.randomBytes(12)
      const cipher = crypto.createCipheriv('aes-256-gcm', encryptionKey(), iv)
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.')
    },
    decrypt(stored) {
      const [version, iv, tag, data] = stored.split('.')
      if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('not an encrypted secret')
      const decipher = crypto.createDecipheriv('aes-256-gcm', encryptionKey(), Buffer.from(iv, 'base64url'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')
    },
  }
}
