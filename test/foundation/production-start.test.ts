// What the Dockerfile runs, outside Docker: build with tsc, then `node dist/main.js` in production
// mode on an empty database (migrations applied at start), serve, and stop cleanly on SIGTERM.
import { execFileSync, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { createTestDatabase, testProvider } from '../database.js'
import { findFreePort, makeTempDir } from '../harness.js'

const dir = makeTempDir('payments-prod-')
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

it('builds, migrates an empty database, serves, and shuts down gracefully on SIGTERM', async () => {
  // `npm run build`, as in the Dockerfile (dist/ must sit beside node_modules to resolve packages).
  const outDir = path.resolve('dist')
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'pipe' })
  const port = await findFreePort()
  // An empty database (SQLite: in a folder that does not exist yet).
  const databaseUrl = testProvider === 'sqlite' ? `file:${path.join(dir, 'data', 'payments.db')}` : await createTestDatabase(dir, { empty: true })
  const token = 'production-token-0123456789'
  const started = Date.now()
  const child = spawn(process.execPath, [path.join(outDir, 'main.js')], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: 'https://payments.example.com',
      DATABASE_URL: databaseUrl,
      KEYS_DIR: path.join(dir, 'keys'),
      API_TOKENS: token,
      WEBHOOK_SECRET: `whsec_${crypto.randomBytes(24).toString('base64')}`,
      TOKEN_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  let running = true
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => ((running = false), resolve(code))))

  let health: Response | undefined
  while (!health && running && Date.now() - started < 30_000) {
    health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined)
    if (!health) await new Promise((r) => setTimeout(r, 200))
  }
  expect(health?.status, output).toBe(200)
  expect(await health!.json()).toMatchObject({ status: 'ok', service: 'payments' })
  console.log(`production start-up (migrations included): ${Date.now() - started} ms`)

  // Production: tokens required, no sandbox, no GraphiQL.
  expect((await fetch(`http://127.0.0.1:${port}/sellers`)).status).toBe(401)
  expect((await fetch(`http://127.0.0.1:${port}/sellers`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
  expect(output).not.toContain('SANDBOX')

  child.kill('SIGTERM')
  expect(await exited).toBe(0)
  expect(output).toContain('payments service stopped')
  expect(output).not.toContain(token)
}, 90_000)

it('refuses to start in production without its secrets, naming each one', () => {
  let failure: { status: number; stderr: string } | undefined
  try {
    execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: `file:${path.join(dir, 'never.db')}` },
      stdio: 'pipe',
    })
  } catch (error) {
    const e = error as { status: number; stderr: Buffer }
    failure = { status: e.status, stderr: e.stderr.toString() }
  }
  expect(failure?.status).toBe(78)
  for (const key of ['API_TOKENS', 'WEBHOOK_SECRET', 'TOKEN_ENCRYPTION_KEY', 'BASE_URL']) expect(failure?.stderr).toContain(key)
  expect(fs.existsSync(path.join(dir, 'never.db'))).toBe(false)
}, 30_000)
