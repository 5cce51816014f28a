// A service process started with the defaults (MIGRATE_ON_START=true) while others use the same
// SQLite file: a rolling restart, a second replica, an operator's sqlite3 shell left open. It must
// come up and serve, and processes starting at once on an empty file must apply each migration once.
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../harness.js'
import { childServiceEnv, queryDatabase, spawnService, useChildServices } from './child-service.js'

useChildServices()

const dirs: string[] = []
afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))

function freshDir(): string {
  const dir = makeTempDir('start-while-serving-')
  dirs.push(dir)
  return dir
}

describe('starting a service on a SQLite file others have open, migrations on start', () => {
  it('comes up beside a serving process and an idle sqlite connection', async (test) => {
    const env = childServiceEnv(freshDir(), { MIGRATE_ON_START: 'true' })
    const first = await spawnService('first', env, { test, healthTimeoutMs: 60_000 })
    // An operator's shell: opened, read once (so it holds its shared lock on the WAL index), left idle.
    const idle = new Database(env.DATABASE_URL.slice('file:'.length))
    try {
      idle.prepare('SELECT count(*) FROM Seller').get()
      expect((await first.request('/sellers')).status).toBe(200)

      const second = await spawnService('second', env, { test, healthTimeoutMs: 60_000 })
      expect(second.output()).not.toContain('migrate deploy failed')
      const [a, b] = await Promise.all([first.request('/sellers'), second.request('/sellers')])
      expect([a.status, b.status]).toEqual([200, 200])
    } finally {
      idle.close()
    }
  }, 150_000)

  it('two processes starting at once on an empty file apply each migration exactly once', async (test) => {
    const dir = freshDir()
    const env = childServiceEnv(dir, { MIGRATE_ON_START: 'true', DATABASE_URL: `file:${path.join(dir, 'data', 'empty.db')}` })
    const [a, b] = await Promise.all([spawnService('a', env, { test, healthTimeoutMs: 60_000 }), spawnService('b', env, { test, healthTimeoutMs: 60_000 })])
    expect([(await a.request('/sellers')).status, (await b.request('/sellers')).status]).toEqual([200, 200])
    const migrations = fs.readdirSync('prisma/migrations').filter((name) => !name.endsWith('.toml'))
    const applied = queryDatabase<{ migration_name: string; finished_at: unknown; rolled_back_at: unknown }>(
      env.DATABASE_URL,
      'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    )
    expect(applied.map((row) => row.migration_name)).toEqual(migrations.sort())
    for (const row of applied) expect(row).toMatchObject({ finished_at: expect.anything(), rolled_back_at: null })
  }, 150_000)
})
