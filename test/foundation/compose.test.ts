// compose.yaml without a Docker engine:
// - dclint (a maintained Compose linter, installed from the lockfile) validates it against the
//   Compose Specification's JSON schema, with no error and no warning;
// - it agrees with the Dockerfile (port, volumes, user, environment, healthcheck) and the contract;
// - `haproxy -c` checks the postgres profile's proxy configuration (.ci/run installs haproxy).
// The payments container's commands run outside Docker in production-start.test.ts, after its build.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../harness.js'
import { compose, dockerfile, healthcheckArgv, interpolate, payments, probePath, read, services } from './compose-file.js'

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
