import fs from 'node:fs'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.js'

describe('configuration', () => {
  it('has working defaults for a first run', () => {
    const cfg = parseConfig({})
    expect(cfg.databaseUrl).toBe('file:./data/payments.db')
    expect(cfg.keysDir).toBe('./privates')
    expect(cfg.port).toBe(4001)
    expect(cfg.graphiql).toBe(true)
    expect(cfg.sandbox).toEqual({ port: 4100 })
    expect(cfg.webhooks.url).toBe('http://localhost:8000/api/webhooks/payments')
    expect(cfg.webhooks.retryScheduleMs.reduce((a, b) => a + b, 0) / 3600e3).toBeGreaterThan(60)
  })

  it('takes .env.example as it is: an empty KEY= is unset, not invalid', () => {
    const example = parseEnv(fs.readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'))
    const cfg = parseConfig(example)
    expect(cfg.bootstrapSeller).toBeUndefined()
    expect(cfg.paymentReturnUrl).toBeUndefined()
    expect(cfg.tokenEncryptionKey).toBeUndefined()
    expect(cfg.sandbox).toEqual({ port: 4100 })
    expect(parseConfig({ SELLER_KEY_ID: '', BASE_URL: '' }).baseUrl).toBe('http://localhost:4001')
  })

  it('lists every bad key in one message', () => {
    let error: unknown
    try {
      parseConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', BASE_URL: 'ftp://x', API_TOKENS: 'short' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    for (const key of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'BASE_URL', 'API_TOKENS']) expect(message).toContain(key)
  })

  it('takes a PostgreSQL URL, and then requires the token encryption key every replica shares', () => {
    const postgres = { DATABASE_URL: 'postgresql://payments@db.internal:5432/payments', DATABASE_POOL_SIZE: '4' }
    expect(() => parseConfig(postgres)).toThrow(/TOKEN_ENCRYPTION_KEY: required on PostgreSQL/)
    const cfg = parseConfig({ ...postgres, TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') })
    expect(cfg).toMatchObject({ databaseUrl: postgres.DATABASE_URL, databasePoolSize: 4 })
    expect(parseConfig({ DATABASE_URL: 'file:/tmp/x.db' }).tokenEncryptionKey).toBeUndefined()
  })

  it('refuses to run in production without tokens, secrets, or with development switches', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/API_TOKENS[\s\S]*WEBHOOK_SECRET[\s\S]*TOKEN_ENCRYPTION_KEY/)
    const complete = {
      NODE_ENV: 'production',
      API_TOKENS: 'a-production-token-1234',
      WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      BASE_URL: 'https://payments.example.com',
    }
    const cfg = parseConfig(complete)
    expect(cfg.sandbox).toBeUndefined()
    expect(cfg.graphiql).toBe(false)
    expect(() => parseConfig({ ...complete, OPEN_PAYMENTS_USE_HTTP: 'true' })).toThrow(/OPEN_PAYMENTS_USE_HTTP/)
    expect(() => parseConfig({ ...complete, BASE_URL: 'http://payments.example.com' })).toThrow(/BASE_URL[\s\S]*https/)
    expect(() => parseConfig({ ...complete, OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS: 'true' })).toThrow(/OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS/)
  })

  it('needs all three SELLER_* wallet keys or none, and then runs no sandbox', () => {
    expect(() => parseConfig({ SELLER_WALLET_ADDRESS_URL: 'https://wallet.example/alice' })).toThrow(/SELLER_KEY_ID[\s\S]*SELLER_PRIVATE_KEY_PATH/)
    const cfg = parseConfig({
      SELLER_WALLET_ADDRESS_URL: 'https://wallet.example/alice',
      SELLER_KEY_ID: 'k1',
      SELLER_PRIVATE_KEY_PATH: './privates/alice.key',
    })
    expect(cfg.bootstrapSeller).toEqual({
      id: 'default-seller',
      walletAddressUrl: 'https://wallet.example/alice',
      keyId: 'k1',
      privateKeyPath: './privates/alice.key',
    })
    expect(cfg.sandbox).toBeUndefined()
  })

  it('parses the webhook retry schedule and refuses nonsense', () => {
    expect(parseConfig({ WEBHOOK_RETRY_SCHEDULE: '1s,2m,3h,1d' }).webhooks.retryScheduleMs).toEqual([1000, 120_000, 10_800_000, 86_400_000])
    expect(() => parseConfig({ WEBHOOK_RETRY_SCHEDULE: '1s,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/)
    expect(() => parseConfig({ WEBHOOK_SECRET: 'not-a-secret' })).toThrow(/WEBHOOK_SECRET/)
    // Base64 a receiver cannot decode (Python's b64decode refuses bad padding), or too short a key.
    expect(() => parseConfig({ WEBHOOK_SECRET: `whsec_${'A'.repeat(33)}` })).toThrow(/WEBHOOK_SECRET/)
    expect(() => parseConfig({ WEBHOOK_SECRET: 'whsec_AAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).toThrow(/WEBHOOK_SECRET/)
    expect(() => parseConfig({ WEBHOOK_SECRET: `whsec_${Buffer.alloc(16, 1).toString('base64')}` })).toThrow(/WEBHOOK_SECRET/)
    expect(parseConfig({ WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }).webhooks.secrets).toHaveLength(1)
  })
})
