// The environment every benchmark runs the service with: silent, an API token, the sandbox wallet
// in another process reached over plain HTTP on loopback, a migrated database, fresh secrets, and a
// local webhook receiver so that the dispatcher does its real work.
import crypto from 'node:crypto'

export const BENCH_API_TOKEN = 'bench-token-0123456789abcdef'
export const benchAuth = { authorization: `Bearer ${BENCH_API_TOKEN}` }

export function benchServiceEnv(options: { databaseUrl: string; keysDir: string; webhookReceiverUrl: string }): Record<string, string> {
  return {
    LOG_LEVEL: 'silent',
    DATABASE_URL: options.databaseUrl,
    MIGRATE_ON_START: 'false',
    API_TOKENS: BENCH_API_TOKEN,
    KEYS_DIR: options.keysDir,
    SANDBOX: 'off',
    OPEN_PAYMENTS_USE_HTTP: 'true',
    OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS: 'true',
    TOKEN_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
    DJANGO_BASE_URL: options.webhookReceiverUrl,
    WEBHOOK_SECRET: `whsec_${crypto.randomBytes(24).toString('base64')}`,
  }
}
