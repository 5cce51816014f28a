// The service's configuration: one zod schema, parsed once at start-up. This is the only module
// that reads the environment (and `.env`, when present). Every key is listed in .env.example.
import fs from 'node:fs'
import { z } from 'zod'
import { databaseProviderOf } from './db/provider.js'

const bool = (fallback: boolean) => z.stringbool().default(fallback)
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
/** whsec_<base64>, decoded strictly (receivers such as Python's b64decode refuse sloppy padding). */
function isWebhookSecret(value: string): boolean {
  const encoded = value.startsWith('whsec_') ? value.slice('whsec_'.length) : ''
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) return false
  const bytes = Buffer.from(encoded, 'base64').length
  return bytes >= 24 && bytes <= 64
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })

/** An origin exactly as browsers send it (scheme, lower-case host, port only when not the default). */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
  } catch {
    return false
  }
}
const corsOrigins = list.pipe(
  z
    .array(z.string().refine((s) => s === '*' || isOrigin(s), 'each entry must be an origin such as https://shop.example.com (no path, no trailing slash), or *'))
    .refine((origins) => !origins.includes('*') || origins.length === 1, '* allows every origin: use it alone'),
)

/** "5s,5m,30m,2h" -> milliseconds. */
const durationList = z
  .string()
  .transform((s, ctx) => {
    const out: number[] = []
    for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
      const m = /^(\d+)(ms|s|m|h|d)$/.exec(part)
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not a duration like 30s, 5m, 2h or 1d` })
        return z.NEVER
      }
      const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']
      out.push(Number(m[1]) * unit)
    }
    if (out.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one duration' })
      return z.NEVER
    }
    return out
  })

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    HOST: z.string().min(1).default('127.0.0.1'),
    BASE_URL: httpUrl.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: z
      .string()
      .refine((url) => databaseProviderOf(url), 'must be a SQLite file: URL such as file:./data/payments.db, or postgresql://user@host:5432/database')
      .default('file:./data/payments.db'),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
    MIGRATE_ON_START: bool(true),
    API_TOKENS: list.pipe(z.array(z.string().min(16, 'each token needs at least 16 characters'))),
    METRICS_TOKENS: list.pipe(z.array(z.string().min(16, 'each token needs at least 16 characters'))),
    GRAPHIQL: z.stringbool().optional(),
    BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(100 * 1024),
    CORS_ALLOWED_ORIGINS: corsOrigins,

    KEYS_DIR: z.string().min(1).default('./privates'),
    SELLER_ID: z.string().min(1).default('default-seller'),
    SELLER_WALLET_ADDRESS_URL: httpUrl.optional(),
    SELLER_KEY_ID: z.string().min(1).optional(),
    SELLER_PRIVATE_KEY_PATH: z.string().min(1).optional(),
    VERIFY_SELLER_WALLET: bool(true),

    SANDBOX: z.enum(['auto', 'off']).default('auto'),
    SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4100),

    OPEN_PAYMENTS_USE_HTTP: bool(false),
    OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS: bool(false),
    OPEN_PAYMENTS_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
    INCOMING_PAYMENT_LIFETIME_SECONDS: z.coerce.number().int().positive().default(24 * 3600),
    CONSENT_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(11 * 60),
    PAYMENT_RETURN_URL: httpUrl.optional(),
    TOKEN_ENCRYPTION_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 random bytes in base64 (openssl rand -base64 32)')
      .optional(),

    DJANGO_BASE_URL: httpUrl.default('http://localhost:8000'),
    WEBHOOK_PATH: z.string().startsWith('/').default('/api/webhooks/payments'),
    WEBHOOK_SECRET: list.pipe(z.array(z.string().refine(isWebhookSecret, 'each secret must be whsec_ followed by 24 to 64 random bytes in base64'))),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    WEBHOOK_RETRY_SCHEDULE: durationList.prefault(['5s', '5m', '30m', '2h', '5h', '10h', '14h', '20h', '20h'].join(',')),
    WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(5000),
    SETTLEMENT_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(2000),
    LIVE_SUBSCRIPTIONS_MAX: z.coerce.number().int().positive().default(200),
    FINISH_LEASE_SECONDS: z.coerce.number().int().positive().default(60),
    FINISH_RETRY_SCHEDULE: durationList.prefault(['5s', '30s', '2m', '10m', '30m', '1h', '2h', '4h', '8h', '8h'].join(',')),
    CLEANUP_RETRY_SCHEDULE: durationList.prefault(['5s', '30s', '2m', '10m', '30m', '1h', '2h', '4h', '8h', '8h'].join(',')),
    TEST_CRASH_AT: z.enum(['after-grant-continued', 'after-token-stored', 'after-outgoing-payment-created']).optional(),
  })
  .superRefine((env, ctx) => {
    const production = env.NODE_ENV === 'production'
    const need = (key: keyof typeof env, message: string) => ctx.addIssue({ code: 'custom', path: [key], message })
    if (production && env.API_TOKENS.length === 0) need('API_TOKENS', 'required when NODE_ENV=production')
    if (production && env.WEBHOOK_SECRET.length === 0) need('WEBHOOK_SECRET', 'required when NODE_ENV=production')
    if (production && !env.TOKEN_ENCRYPTION_KEY) need('TOKEN_ENCRYPTION_KEY', 'required when NODE_ENV=production')
    else if (!env.TOKEN_ENCRYPTION_KEY && databaseProviderOf(env.DATABASE_URL) === 'postgresql')
      need('TOKEN_ENCRYPTION_KEY', 'required on PostgreSQL: every replica must decrypt what the others stored')
    if (production && !env.BASE_URL) need('BASE_URL', 'required when NODE_ENV=production (wallets redirect buyers there)')
    if (production && env.BASE_URL?.startsWith('http:')) need('BASE_URL', 'must be https:// when NODE_ENV=production (the finish redirect carries hash and interact_ref)')
    if (production && env.OPEN_PAYMENTS_USE_HTTP) need('OPEN_PAYMENTS_USE_HTTP', 'plain HTTP is refused when NODE_ENV=production')
    if (production && env.OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS)
      need('OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS', 'private wallet hosts are refused when NODE_ENV=production')
    if (production && env.CORS_ALLOWED_ORIGINS.includes('*'))
      need('CORS_ALLOWED_ORIGINS', '* is refused when NODE_ENV=production: list the front ends\' origins')
    if (env.TEST_CRASH_AT && env.NODE_ENV !== 'test') need('TEST_CRASH_AT', 'is a fault-injection switch for tests only (NODE_ENV=test)')
    const sellerKeys = [env.SELLER_WALLET_ADDRESS_URL, env.SELLER_KEY_ID, env.SELLER_PRIVATE_KEY_PATH]
    if (sellerKeys.some(Boolean) && !sellerKeys.every(Boolean)) {
      for (const key of ['SELLER_WALLET_ADDRESS_URL', 'SELLER_KEY_ID', 'SELLER_PRIVATE_KEY_PATH'] as const) {
        if (!env[key]) need(key, 'set all three SELLER_* wallet keys, or none')
      }
    }
  })

export type Env = z.input<typeof EnvSchema>

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>) {
  // `KEY=` (as .env.example writes every optional key) means unset, not an invalid empty value.
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')))
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`)
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const production = e.NODE_ENV === 'production'
  return {
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    host: e.HOST,
    baseUrl: (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    migrateOnStart: e.MIGRATE_ON_START,
    apiTokens: e.API_TOKENS,
    metricsTokens: e.METRICS_TOKENS,
    graphiql: e.GRAPHIQL ?? !production,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS,
    keysDir: e.KEYS_DIR,
    bootstrapSeller: e.SELLER_WALLET_ADDRESS_URL
      ? {
          id: e.SELLER_ID,
          walletAddressUrl: e.SELLER_WALLET_ADDRESS_URL,
          keyId: e.SELLER_KEY_ID!,
          privateKeyPath: e.SELLER_PRIVATE_KEY_PATH!,
        }
      : undefined,
    sellerId: e.SELLER_ID,
    verifySellerWallet: e.VERIFY_SELLER_WALLET,
    // The embedded sandbox wallet runs only when no real wallet is configured, never in production.
    sandbox: !production && e.SANDBOX === 'auto' && !e.SELLER_WALLET_ADDRESS_URL ? { port: e.SANDBOX_PORT } : undefined,
    openPayments: {
      useHttp: e.OPEN_PAYMENTS_USE_HTTP,
      allowPrivateHosts: e.OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS,
      timeoutMs: e.OPEN_PAYMENTS_TIMEOUT_MS,
      incomingPaymentLifetimeMs: e.INCOMING_PAYMENT_LIFETIME_SECONDS * 1000,
      consentTimeoutMs: e.CONSENT_TIMEOUT_SECONDS * 1000,
    },
    paymentReturnUrl: e.PAYMENT_RETURN_URL,
    tokenEncryptionKey: e.TOKEN_ENCRYPTION_KEY,
    webhooks: {
      url: e.DJANGO_BASE_URL.replace(/\/+$/, '') + e.WEBHOOK_PATH,
      secrets: e.WEBHOOK_SECRET,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
    },
    settlement: {
      pollIntervalMs: e.SETTLEMENT_POLL_INTERVAL_MS,
      finishLeaseMs: e.FINISH_LEASE_SECONDS * 1000,
      finishRetryScheduleMs: e.FINISH_RETRY_SCHEDULE,
    },
    cleanup: {
      retryScheduleMs: e.CLEANUP_RETRY_SCHEDULE,
    },
    liveSubscriptionsMax: e.LIVE_SUBSCRIPTIONS_MAX,
    testCrashAt: e.TEST_CRASH_AT,
  }
}

export type Config = ReturnType<typeof parseConfig>

/** Reads `.env` (when present, without overriding real environment variables) and the environment. */
export function loadConfig(envFile = '.env'): Config {
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile)
  return parseConfig(process.env)
}
