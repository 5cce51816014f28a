// A service process started with the defaults (MIGRATE_ON_START=true) while others use the same
// database: a rolling restart, a second replica, an operator's shell left open. It must come up and
// serve, and processes starting at once on an empty database must apply each migration once.
import fs from 'node:fs'
import Database from 'better-sqlite3'
import pg from 'pg'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { migrateDatabase, PRISMA_MIGRATION_LOCK, type MigrationLockHolder } from '../../src/db.js'
import { createTestDatabase, queryDatabase, testProvider } from '../database.js'
import { makeTempDir } from '../harness.js'
import { childServiceEnv, spawnService, useChildServices } from './child-service.js'

/** An operator's shell on the database: opened, read once (on SQLite it then holds its shared lock on the WAL index), left idle. */
async function openIdleConnection(databaseUrl: string): Promise<() => Promise<void>> {
  if (testProvider === 'postgresql') {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    await client.query('SELECT count(*) FROM "Seller"')
    return () => client.end()
  }
  const sqlite = new Database(databaseUrl.slice('file:'.length))
  sqlite.prepare('SELECT count(*) FROM Seller').get()
  return async () => void sqlite.close()
}

const migrationsFolder = testProvider === 'postgresql' ? 'prisma/postgresql/migrations' : 'prisma/migrations'

useChildServices()

const dirs: string[] = []
afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))

function freshDir(): string {
  const dir = makeTempDir('start-while-serving-')
  dirs.push(dir)
  return dir
}

describe(`starting a service on a ${testProvider} database others have open, migrations on start`, () => {
  it('comes up beside a serving process and an idle connection', async (test) => {
    const env = await childServiceEnv(freshDir(), { MIGRATE_ON_START: 'true' })
    const first = await spawnService('first', env, { test, healthTimeoutMs: 60_000 })
    const closeIdle = await openIdleConnection(env.DATABASE_URL)
    try {
      expect((await first.request('/sellers')).status).toBe(200)

      const second = await spawnService('second', env, { test, healthTimeoutMs: 60_000 })
      expect(second.output()).not.toContain('migrate deploy failed')
      const [a, b] = await Promise.all([first.request('/sellers'), second.request('/sellers')])
      expect([a.status, b.status]).toEqual([200, 200])
    } finally {
      await closeIdle()
    }
  }, 150_000)

  it('two processes starting at once on an empty database apply each migration exactly once', async (test) => {
    const dir = freshDir()
    const env = await childServiceEnv(dir, { MIGRATE_ON_START: 'true', DATABASE_URL: await createTestDatabase(dir, { empty: true }) })
    const [a, b] = await Promise.all([spawnService('a', env, { test, healthTimeoutMs: 60_000 }), spawnService('b', env, { test, healthTimeoutMs: 60_000 })])
    expect([(await a.request('/sellers')).status, (await b.request('/sellers')).status]).toEqual([200, 200])
    const migrations = fs.readdirSync(migrationsFolder).filter((name) => /^\d/.test(name))
    const applied = await queryDatabase<{ migration_name: string; finished_at: unknown; rolled_back_at: unknown }>(
      env.DATABASE_URL,
      'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    )
    expect(applied.map((row) => row.migration_name)).toEqual(migrations.sort())
    for (const row of applied) expect(row).toMatchObject({ finished_at: expect.anything(), rolled_back_at: null })
  }, 150_000)

  // Prisma's schema engine waits 10 s for PostgreSQL's migration lock, then fails (P1002): a
  // replica starting while another one's migrations take longer must wait on.
  it.runIf(testProvider === 'postgresql')('waits for another process that holds the migration lock longer than the CLI waits', async (test) => {
    const env = await childServiceEnv(freshDir(), { MIGRATE_ON_START: 'true', DATABASE_URL: await createTestDatabase(freshDir(), { empty: true }) })
    const migrator = new pg.Client({ connectionString: env.DATABASE_URL })
    await migrator.connect()
    try {
      await migrator.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATION_LOCK])
      const starting = spawnService('waiting', env, { test, healthTimeoutMs: 90_000 })
      // Held until a second connection waits for it (the CLI's first wait ran out), or the service gave up.
      const waiters = watchLockWaiters(migrator, starting)
      while (waiters.size < 2 && !waiters.settled) await sleep(100)
      await migrator.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATION_LOCK])
      const service = await starting
      waiters.stop()
      expect(service.output()).toContain('another process is still applying migrations')
      expect(service.output()).not.toContain('migrate deploy failed')
      expect((await service.request('/sellers')).status).toBe(200)
      await expectEveryMigrationApplied(env.DATABASE_URL)
    } finally {
      await migrator.end()
    }
  }, 150_000)

  // The wait itself (migrateDatabase, as start-up runs it): it says who holds the lock while it
  // waits, queues no further backend behind the lock, however long it is held, and fails cleanly
  // when its connection is lost.
  it.runIf(testProvider === 'postgresql')('while it waits for the lock, says who holds it, queues nothing more behind it, and fails cleanly if its connection drops', async () => {
    const databaseUrl = await createTestDatabase(freshDir(), { empty: true })
    const migrator = new pg.Client({ connectionString: databaseUrl, application_name: 'another-migrator' })
    await migrator.connect()
    try {
      await migrator.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATION_LOCK])
      const { rows: [{ pid }] } = await migrator.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      const reports: (MigrationLockHolder | undefined)[] = []
      let waiting = 0
      const migrated = migrateDatabase(databaseUrl, { onWaiting: () => waiting++, onStillWaiting: (holder) => reports.push(holder), reportEveryMs: 500 })
      const waiters = watchLockWaiters(migrator, migrated)
      // Longer than another of the CLI's waits after its first gave up.
      while (reports.length < 28 && waiters.size <= 2 && !waiters.settled) await sleep(100)
      waiters.stop()
      expect(waiting).toBe(1)
      expect(waiters.size).toBe(2) // the given-up CLI's backend, and the wait's own connection
      expect(reports.at(-1)).toMatchObject({ pid, applicationName: 'another-migrator' })
      // Its connection lost (a failover): the start fails with an error, and the process goes on.
      await migrator.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'payments-migration-wait'")
      await expect(migrated).rejects.toThrow()
      await migrator.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATION_LOCK])
      await migrateDatabase(databaseUrl)
      await expectEveryMigrationApplied(databaseUrl)
    } finally {
      await migrator.end()
    }
  }, 150_000)
})

/** The backends waiting for an advisory lock on `client`'s database, every 100 ms, until `stop` or `until` settles. */
function watchLockWaiters(client: pg.Client, until: Promise<unknown>) {
  const pids = new Set<number>()
  let stopped = false
  const watch = Object.assign(pids, { settled: false, stop: () => void (stopped = true) })
  until.then(() => (watch.settled = true), () => (watch.settled = true))
  void (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'")
      for (const row of rows) pids.add(row.pid)
      await sleep(100)
    }
  })()
  return watch
}

async function expectEveryMigrationApplied(databaseUrl: string): Promise<void> {
  const applied = await queryDatabase<{ migration_name: string }>(databaseUrl, 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL')
  expect(applied.map((row) => row.migration_name).sort()).toEqual(fs.readdirSync(migrationsFolder).filter((name) => /^\d/.test(name)).sort())
}
