// The environment every benchmark runs the service with: silent, an API token, the sandbox wallet
// in another process reached over plain HTTP on loopback, a migrated database, fresh secrets, and a
// local webhook receiver so that the dispatcher does its real work.
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import path from 'node:path'

export const BENCH_API_TOKEN = 'bench-token-0123456789abcdef'
export const benchAuth = { authorization: `Bearer ${BENCH_API_TOKEN}` }

/** The arguments `npm start` gives node (package.json's start script), so a benchmark runs what it runs. */
export function npmStartNodeArgs(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8'))
  const [command, ...args] = String(pkg.scripts.start).split(/\s+/)
  if (command !== 'node') throw new Error(`package.json's start script is not a node command line: ${pkg.scripts.start}`)
  return args
}

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

/** A webhook receiver that answers 204 to everything: the service's delivery does its real work. */
export async function startWebhookReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  // The service delivers a signed webhook per state change; a receiver that answers 204 keeps
  // the dispatcher doing its real work instead of retrying a closed port.
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(204).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
