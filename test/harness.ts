// The test harness: a real service (real HTTP server, a real database of its own made from the
// run's migrated template, SQLite or PostgreSQL: test/database.ts) in this test file's process,
// with its logs captured for assertions.
import crypto from 'node:crypto'
import net from 'node:net'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { parseConfig, type Env } from '../src/config.js'
import type { PrismaClient } from '../src/db.js'
import type { Deps } from '../src/deps.js'
import { createLogger } from '../src/logger.js'
import { startService, type ServiceOptions } from '../src/service.js'
import { createTestDatabase } from './database.js'

export const API_TOKEN = 'test-token-0123456789abcdef'
export const TEST_TOKEN_ENCRYPTION_KEY = Buffer.alloc(32, 42).toString('base64')

export interface TestService {
  url: string
  dir: string
  keysDir: string
  databaseUrl: string
  logs: string[]
  /** The service's Prisma client (its own database). */
  db: PrismaClient
  /** What the service is made of (src/deps.ts), for tests that call its modules directly. */
  deps: Deps
  /** fetch with the API token (pass `token: null` for none). */
  request(pathname: string, init?: RequestInit & { json?: unknown; token?: string | null }): Promise<Response>
  graphql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ data: T; errors?: any[] }>
  close(): Promise<void>
}

export function makeTempDir(prefix = 'payments-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** Writes a fresh Ed25519 private key PEM into `dir` and returns its path and public JWK. */
export function writeEd25519Key(dir: string, name: string) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
  const file = path.join(dir, name)
  fs.writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 })
  return { file, privateKey, publicJwk: publicKey.export({ format: 'jwk' }) }
}

/** The environment of a test service in `dir`, on a fresh migrated database of its own (test/database.ts). */
export async function testEnv(dir: string, env: Partial<Env> = {}): Promise<Record<string, string>> {
  const keysDir = path.join(dir, 'keys')
  fs.mkdirSync(keysDir, { recursive: true })
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    DATABASE_URL: env.DATABASE_URL ?? (await createTestDatabase(dir)),
    MIGRATE_ON_START: 'false',
    // Required on PostgreSQL (replicas share it); one fixed test key on both providers.
    TOKEN_ENCRYPTION_KEY: TEST_TOKEN_ENCRYPTION_KEY,
    API_TOKENS: API_TOKEN,
    KEYS_DIR: keysDir,
    SANDBOX: 'off',
    VERIFY_SELLER_WALLET: 'false',
    ...(env as Record<string, string>),
  }
}

export async function startTestService(env: Partial<Env> = {}, options: Pick<ServiceOptions, 'clock'> = {}): Promise<TestService> {
  const dir = makeTempDir()
  const cfg = parseConfig(await testEnv(dir, env))
  const logs: string[] = []
  const logger = createLogger(
    cfg.logLevel,
    new Writable({
      write(chunk, _enc, done) {
        logs.push(chunk.toString())
        done()
      },
    }),
  )
  const service = await startService(cfg, { ...options, logger })
  const request: TestService['request'] = (pathname, init = {}) => {
    const { json, token = API_TOKEN, ...rest } = init
    const headers = new Headers(rest.headers)
    if (token) headers.set('authorization', `Bearer ${token}`)
    if (json !== undefined) headers.set('content-type', 'application/json')
    return fetch(service.url + pathname, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body })
  }
  return {
    url: service.url,
    dir,
    keysDir: cfg.keysDir,
    databaseUrl: cfg.databaseUrl,
    logs,
    db: service.deps.db.prisma,
    deps: service.deps,
    request,
    async graphql(query, variables, token) {
      const res = await request('/graphql', { method: 'POST', json: { query, variables }, token })
      return res.json() as any
    },
    async close() {
      await service.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

/** Polls `probe` until it returns something truthy, and returns that (for code where expect.poll does not fit). */
export async function waitFor<T>(probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value as Truthy<T>
    if (Date.now() > deadline) throw new Error(`waitFor: nothing after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A TCP port free on 127.0.0.1 right now (for child processes that need a port before they start). */
export async function findFreePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
