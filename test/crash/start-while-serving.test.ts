// A service process started with the defaults (MIGRATE_ON_START=true) while others use the same
// database: a rolling restart, a second replica, an operator's shell left open. It must come up and
// serve, and processes starting at once on an empty database must apply each migration once.
import fs from 'node:fs'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
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
})
