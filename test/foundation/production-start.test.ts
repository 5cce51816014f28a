// What the Dockerfile runs, outside Docker: `npm run build`, then `node dist/main.js` in production
// mode on an empty database (migrations applied at start), serve, and stop cleanly on SIGTERM;
// then the same as compose.yaml's payments service runs it (its environment and healthcheck).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { afterAll, expect, it } from 'vitest'
import { createTestDatabase, testProvider } from '../database.js'
import { findFreePort, makeTempDir } from '../harness.js'
import { dockerfile, healthcheckArgv, interpolate, payments, read } from './compose-file.js'

const dir = makeTempDir('payments-prod-')
// A test that times out must not leave its service running.
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  fs.rmSync(dir, { recursive: true, force: true })
})

/**
 * Starts `node <args>` in production mode on `databaseUrl` with a fresh API token and secrets, as
 * a deployment would, and waits for its first answer on /health (or its exit).
 */
async function startProduction(args: string[], databaseUrl: string, keysDir: string) {
  const port = await findFreePort()
  const token = `production-token-${crypto.randomBytes(8).toString('hex')}`
  const startedAt = Date.now()
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      BASE_URL: 'https://payments.example.com',
      DATABASE_URL: databaseUrl,
      KEYS_DIR: keysDir,
      API_TOKENS: token,
      WEBHOOK_SECRET: `whsec_${crypto.randomBytes(24).toString('base64')}`,
      TOKEN_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const url = `http://127.0.0.1:${port}`
  let health: Response | undefined
  while (!health && child.exitCode === null && Date.now() - startedAt < 30_000) {
    health = await fetch(`${url}/health`).catch(() => undefined)
    if (!health) await new Promise((r) => setTimeout(r, 200))
  }
  return { url, token, health, startedAt, output: () => output, stop: () => (child.kill('SIGTERM'), exited) }
}

it('builds, migrates an empty database, serves, and shuts down gracefully on SIGTERM', async () => {
  // `npm run build`, as in the Dockerfile (dist/ must sit beside node_modules to resolve packages).
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe' })
  // An empty database (SQLite: in a folder that does not exist yet).
  const databaseUrl = testProvider === 'sqlite' ? `file:${path.join(dir, 'data', 'payments.db')}` : await createTestDatabase(dir, { empty: true })
  const service = await startProduction([path.resolve('dist', 'main.js')], databaseUrl, path.join(dir, 'keys'))
  expect(service.health?.status, service.output()).toBe(200)
  expect(await service.health!.json()).toMatchObject({ status: 'ok', service: 'payments' })
  console.log(`production start-up (migrations included): ${Date.now() - service.startedAt} ms`)

  // Production: tokens required, no sandbox, no GraphiQL.
  expect((await fetch(`${service.url}/sellers`)).status).toBe(401)
  expect((await fetch(`${service.url}/sellers`, { headers: { authorization: `Bearer ${service.token}` } })).status).toBe(200)
  expect(service.output()).not.toContain('SANDBOX')

  expect(await service.stop()).toBe(0)
  expect(service.output()).toContain('payments service stopped')
  expect(service.output()).not.toContain(service.token)
}, 90_000)

it("npm start's command runs dist/ as built, without compiling it again, and serves", async () => {
  // The first test built dist/ with `npm run build`; src/ has not changed since.
  const [command, ...args] = JSON.parse(read('package.json')).scripts.start.split(/\s+/)
  expect(command).toBe('node')
  const built = fs.statSync(path.resolve('dist', 'main.js')).mtimeMs
  const databaseUrl = testProvider === 'sqlite' ? `file:${path.join(dir, 'npm-start', 'payments.db')}` : await createTestDatabase(dir, { empty: true })
  const service = await startProduction(args, databaseUrl, path.join(dir, 'npm-start-keys'))
  expect(service.health?.status, service.output()).toBe(200)
  expect((await fetch(`${service.url}/sellers`, { headers: { authorization: `Bearer ${service.token}` } })).status).toBe(200)
  expect(fs.statSync(path.resolve('dist', 'main.js')).mtimeMs).toBe(built)
  expect(await service.stop()).toBe(0)
  expect(service.output()).toContain('payments service stopped')
}, 60_000)

// compose.yaml's payments container: its CMD and healthcheck, in the image's layout (/app: dist,
// prisma, node_modules), with the environment Compose gives it from a .env copied from
// .env.example; the named volumes become temporary directories, port 3000 a free port.
it("runs compose.yaml's payments container: serves with Compose's environment, answers the healthcheck, stops on SIGTERM", async () => {
  const app = path.join(dir, 'compose', 'app')
  expect(fs.existsSync(path.resolve('dist', 'main.js')), 'dist/ is built by the first test of this file').toBe(true)
  fs.mkdirSync(app, { recursive: true })
  // The runtime stage's files, as its `COPY --from=build /app/<path> …` lines name them (node_modules is linked).
  const runtimeFiles = [...read('Dockerfile').matchAll(/^COPY --from=build (.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/).map((source) => path.posix.relative('/app', source)))
  expect(runtimeFiles).toEqual(expect.arrayContaining(['dist', 'package.json', 'prisma.config.ts', 'prisma', 'node_modules']))
  for (const entry of runtimeFiles.filter((entry) => entry !== 'node_modules')) {
    fs.cpSync(path.resolve(entry), path.join(app, entry), { recursive: true })
  }
  fs.symlinkSync(path.resolve('node_modules'), path.join(app, 'node_modules'), 'dir')
  expect(dockerfile.workdir).toBe('/app')

  // A person's .env: .env.example copied, with production's secrets filled in.
  const token = 'compose-token-0123456789'
  const dotEnv = parseEnv(
    read('.env.example') +
      [
        `API_TOKENS=${token}`,
        `WEBHOOK_SECRET=whsec_${crypto.randomBytes(24).toString('base64')}`,
        `TOKEN_ENCRYPTION_KEY=${crypto.randomBytes(32).toString('base64')}`,
        'BASE_URL=https://payments.example.com',
      ].join('\n'),
  )
  // What the container sees: image ENV, then env_file, then `environment` (interpolated from .env).
  const volumes: Record<string, string> = { '/data': path.join(dir, 'compose', 'payments-data'), '/keys': path.join(dir, 'compose', 'payments-keys') }
  for (const volume of Object.values(volumes)) fs.mkdirSync(volume, { recursive: true })
  const onVolumes = (value: string) => value.replace(/(?<=^|:)\/(data|keys)(?=\/|$)/, (p) => volumes[p])
  const composeEnv = Object.fromEntries(
    Object.entries(payments.environment as Record<string, string>).map(([k, v]) => [k, onVolumes(interpolate(v, dotEnv))]),
  )
  const port = await findFreePort() // the container's own network has 3000 free; this machine may not
  const env = {
    ...Object.fromEntries(Object.entries(dockerfile.env).map(([k, v]) => [k, onVolumes(v)])),
    ...dotEnv,
    ...composeEnv,
    PORT: String(port),
    PATH: process.env.PATH,
  }
  expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', DJANGO_BASE_URL: 'http://web:8000', KEYS_DIR: volumes['/keys'] })

  const child = spawn(dockerfile.cmd[0] === 'node' ? process.execPath : dockerfile.cmd[0], dockerfile.cmd.slice(1), {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const healthcheck = () => spawnSync(process.execPath, healthcheckArgv(payments).slice(1), { env: { PORT: String(port) }, timeout: 10_000 })

  try {
    const started = Date.now()
    while (healthcheck().status !== 0) {
      if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`never healthy:\n${output}`)
      await new Promise((r) => setTimeout(r, 250))
    }
    // Production from the image, secrets from .env: the API wants the token; no sandbox.
    expect((await fetch(`http://127.0.0.1:${port}/sellers`)).status).toBe(401)
    const sellers = await fetch(`http://127.0.0.1:${port}/sellers`, { headers: { authorization: `Bearer ${token}` } })
    expect(sellers.status).toBe(200)
    expect(output).not.toContain('SANDBOX')
    // The database is on the data volume, not in /app (which the node user cannot write in the image).
    expect(fs.readdirSync(volumes['/data'])).toContain('payments.db')
    expect(fs.existsSync(path.join(app, 'data'))).toBe(false)
  } finally {
    child.kill('SIGTERM') // what `docker compose stop` sends
  }
  expect(await exited).toBe(0)
  expect(output).toContain('payments service stopped')
  expect(healthcheck().status).toBe(1) // nothing listening: unhealthy
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
