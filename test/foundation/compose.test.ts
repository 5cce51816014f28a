// compose.yaml without a Docker engine:
// - dclint (a maintained Compose linter, installed from the lockfile) validates it against the
//   Compose Specification's JSON schema, with no error and no warning;
// - it agrees with the Dockerfile (port, volumes, user, environment, healthcheck) and the contract;
// - the payments container's commands (CMD, then the healthcheck) run here, in the image's layout
//   (/app: dist, prisma, node_modules) with the environment Compose gives them from a .env copied
//   from .env.example: named volumes become temporary directories, port 3000 a free port;
// - `haproxy -c` checks the postgres profile's proxy configuration (.ci/run installs haproxy).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { findFreePort, makeTempDir } from '../harness.js'

const read = (file: string) => fs.readFileSync(path.resolve(file), 'utf8')
const compose = parse(read('compose.yaml'), { merge: true })
const services = compose.services as Record<string, any>
const payments = services.payments

/** The runtime stage of the Dockerfile: its ENV, EXPOSE, USER, WORKDIR, VOLUME, CMD and HEALTHCHECK. */
function readDockerfile() {
  const text = read('Dockerfile').replace(/\\\n\s*/g, ' ')
  const runtime = text.slice(text.lastIndexOf('\nFROM '))
  const instruction = (name: string) => [...runtime.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((m) => m[1].trim())
  const env = Object.fromEntries(instruction('ENV').flatMap((line) => line.split(/\s+/).map((pair) => pair.split('=') as [string, string])))
  return {
    env,
    expose: instruction('EXPOSE'),
    user: instruction('USER').at(-1),
    workdir: instruction('WORKDIR').at(-1),
    volumes: instruction('VOLUME').flatMap((v) => JSON.parse(v) as string[]),
    chownRuns: instruction('RUN').filter((r) => r.includes('chown node:node')),
    cmd: JSON.parse(instruction('CMD').at(-1)!) as string[],
    healthcheck: instruction('HEALTHCHECK').at(-1)!,
  }
}
const dockerfile = readDockerfile()

/** Compose interpolation, for the only forms compose.yaml uses: ${NAME} and ${NAME:-default}. */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{([^}]*)\}/g, (_, expr: string) => {
    const m = /^([A-Z_][A-Z0-9_]*)(?::-(.*))?$/.exec(expr)
    if (!m) throw new Error(`compose.test.ts understands \${NAME} and \${NAME:-default} only, not \${${expr}}`)
    return vars[m[1]] || (m[2] ?? '')
  })
}

/** The route the healthcheck and the proxy should probe: /ready once the service has one. */
const probePath = /['"`]\/ready['"`]/.test(read('src/app.ts')) ? '/ready' : '/health'
const healthcheckArgv = (service: any) => {
  const [kind, ...argv] = service.healthcheck.test as string[]
  expect(kind).toBe('CMD')
  return argv
}

describe('dclint', () => {
  const dclint = (file: string) =>
    spawnSync(path.resolve('node_modules/.bin/dclint'), ['--max-warnings', '0', '--config', path.resolve('.dclintrc.yaml'), file], {
      encoding: 'utf8',
    })
  const dir = makeTempDir('payments-compose-')
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('validates compose.yaml against the Compose Specification with no error or warning', () => {
    const result = dclint(path.resolve('compose.yaml'))
    expect(result.status, result.stdout + result.stderr).toBe(0)
  })

  it('fails a compose file that breaks the specification (the check can fail)', () => {
    const broken = path.join(dir, 'compose.yaml')
    fs.writeFileSync(broken, read('compose.yaml').replace('condition: service_healthy', 'condition: service_happy'))
    const result = dclint(broken)
    expect(result.status).not.toBe(0)
    expect(result.stdout + result.stderr).toContain('depends_on')
  })
})

describe('the payments service', () => {
  it('listens on 3000 inside the network, published on localhost:4001 as in the contract', () => {
    expect(payments.build).toBe('.')
    expect(dockerfile.expose).toEqual(['3000'])
    expect(dockerfile.env.PORT).toBe('3000')
    expect(payments.environment.PORT).toBe('3000')
    expect(payments.environment.HOST).toBe('0.0.0.0')
    expect(payments.ports.map((p: string) => interpolate(p, {}))).toEqual(['127.0.0.1:4001:3000'])
  })

  it('keeps SQLite and keys on named volumes owned by the user the image runs as', () => {
    expect(payments.volumes).toEqual(['payments-data:/data', 'payments-keys:/keys'])
    for (const volume of ['payments-data', 'payments-keys']) expect(compose.volumes).toHaveProperty([volume])
    expect(payments.environment.DATABASE_URL).toBe(dockerfile.env.DATABASE_URL)
    expect(payments.environment.DATABASE_URL).toMatch(/^file:\/data\//)
    expect(payments.environment.KEYS_DIR).toBe(dockerfile.env.KEYS_DIR)
    expect(payments.environment.KEYS_DIR).toBe('/keys')
    expect(dockerfile.volumes).toContain('/data')
    expect(dockerfile.user).toBe('node')
    expect(payments.user).toBeUndefined()
    expect(dockerfile.chownRuns.join(' ')).toMatch(/chown node:node \/data \/keys/)
  })

  it('reads .env when it exists, and sends webhooks to http://web:8000 unless told otherwise', () => {
    expect(payments.env_file).toEqual([{ path: '.env', required: false }])
    expect(interpolate(payments.environment.DJANGO_BASE_URL, {})).toBe('http://web:8000')
    expect(interpolate(payments.environment.DJANGO_BASE_URL, { DJANGO_BASE_URL: 'http://django:9000' })).toBe('http://django:9000')
    // .env.example copied as .env must not send the container's webhooks to its own localhost.
    expect(parseEnv(read('.env.example')).DJANGO_BASE_URL).toBeUndefined()
  })

  it(`probes ${probePath} with the same command as the Dockerfile's HEALTHCHECK`, () => {
    const [node, flag, script] = healthcheckArgv(payments)
    expect([node, flag]).toEqual(['node', '-e'])
    expect(script).toContain(`+'${probePath}'`)
    expect(dockerfile.healthcheck).toContain(`CMD node -e "${script}"`)
  })
})

describe('profile postgres', () => {
  const replica = services['payments-replica']
  const proxy = services['payments-proxy']
  const postgres = services.postgres

  it('runs two replicas of the same image on PostgreSQL behind the proxy', () => {
    for (const service of [replica, proxy, postgres]) expect(service.profiles).toEqual(['postgres'])
    expect(payments.profiles).toBeUndefined()
    expect(replica.image).toBe(payments.image)
    expect(replica.deploy.replicas).toBe(2)
    const { POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD } = postgres.environment
    const databaseUrl = new URL(interpolate(replica.environment.DATABASE_URL, {}))
    expect(databaseUrl.protocol).toBe('postgresql:')
    expect(databaseUrl.host).toBe('postgres:5432')
    expect([databaseUrl.username, databaseUrl.password, databaseUrl.pathname]).toEqual([
      POSTGRES_USER,
      interpolate(POSTGRES_PASSWORD, {}),
      `/${POSTGRES_DB}`,
    ])
    expect(interpolate(replica.environment.DATABASE_URL, { POSTGRES_PASSWORD: 's3cret' })).toContain(':s3cret@')
    expect(replica.ports).toBeUndefined() // replicas are reached through the proxy only
    expect({ ...replica.environment, DATABASE_URL: undefined }).toEqual({ ...payments.environment, DATABASE_URL: undefined })
    expect(replica.volumes).toEqual(['payments-keys:/keys'])
    expect(replica.depends_on).toEqual({ postgres: { condition: 'service_healthy' } })
    expect(postgres.healthcheck.test).toContain('pg_isready')
    expect(compose.volumes).toHaveProperty(['postgres-data'])

    // The proxy takes the payments service's place: same published port, same name in the network.
    expect(proxy.ports).toEqual(payments.ports)
    expect(proxy.networks.default.aliases).toEqual(['payments'])
    expect(proxy.depends_on).toEqual({ 'payments-replica': { condition: 'service_healthy' } })
    const [mount] = proxy.volumes as string[]
    const [source, target] = mount.split(':')
    expect(target).toBe('/usr/local/etc/haproxy/haproxy.cfg')
    const haproxyCfg = read(source)
    expect(haproxyCfg).toMatch(/^\s+bind :3000$/m)
    expect(haproxyCfg).toMatch(new RegExp(`^\\s+server-template \\S+ ${replica.deploy.replicas} payments-replica:3000 `, 'm'))
    expect(haproxyCfg).toMatch(new RegExp(`^\\s+http-check send meth GET uri ${probePath}$`, 'm'))
  })

  const haproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' })
  const haproxyMissing = haproxy.error ? 'haproxy is not installed (bash .ci/run installs it: apt-get install haproxy)' : ''
  it.skipIf(haproxyMissing)(`HAProxy accepts the proxy configuration${haproxyMissing ? ` [SKIPPED: ${haproxyMissing}]` : ''}`, () => {
    const check = (file: string) => spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' })
    const ok = check(path.resolve('deploy/haproxy.cfg'))
    expect(ok.status, ok.stdout + ok.stderr).toBe(0)
    const dir = makeTempDir('payments-haproxy-')
    const broken = path.join(dir, 'haproxy.cfg')
    fs.writeFileSync(broken, read('deploy/haproxy.cfg').replace('http-check expect status 200', 'http-check expect stauts 200'))
    expect(check(broken).status).not.toBe(0)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

describe("the payments container's commands, outside Docker", () => {
  const root = makeTempDir('payments-compose-run-')
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it('serve with the environment Compose gives them, answer the healthcheck, and stop on SIGTERM', async () => {
    // The image's /app: `npm run build` output beside node_modules, package.json, prisma.
    const app = path.join(root, 'app')
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist')], {
      stdio: 'pipe',
    })
    for (const entry of ['package.json', 'prisma.config.ts', 'prisma']) fs.cpSync(path.resolve(entry), path.join(app, entry), { recursive: true })
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
    const volumes: Record<string, string> = { '/data': path.join(root, 'payments-data'), '/keys': path.join(root, 'payments-keys') }
    for (const dir of Object.values(volumes)) fs.mkdirSync(dir)
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
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const healthcheck = () => spawnSync(process.execPath, healthcheckArgv(payments).slice(1), { env: { PORT: String(port) }, timeout: 10_000 })

    try {
      const started = Date.now()
      while (healthcheck().status !== 0) {
        if (child.exitCode !== null || Date.now() - started > 90_000) throw new Error(`never healthy:\n${output}`)
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
  }, 300_000) // tsc alone takes 20 s on an idle CI machine, far more when busy
})
