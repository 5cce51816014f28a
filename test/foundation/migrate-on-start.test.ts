// MIGRATE_ON_START (the default): start-up applies pending migrations with the Prisma CLI, and
// does not spawn the CLI when every committed migration is applied already (it costs over a second
// of start-up). Several processes starting at once: test/crash/start-while-serving.test.ts.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { afterAll, expect, it, vi } from 'vitest'
import { createTestDatabase } from '../database.js'
import { makeTempDir, startTestService } from '../harness.js'

vi.mock('node:child_process', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:child_process')>()
  return { ...actual, spawn: vi.fn(actual.spawn) }
})

const dir = makeTempDir('migrate-on-start-')
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const migrateDeployRuns = () => vi.mocked(spawn).mock.calls.filter(([, args]) => args?.includes('migrate') && args.includes('deploy')).length

it('applies the migrations of an empty database on start, then starts without the CLI once none is pending', async () => {
  const env = { MIGRATE_ON_START: 'true', DATABASE_URL: await createTestDatabase(dir, { empty: true }) } as const

  const first = await startTestService(env)
  try {
    expect(migrateDeployRuns()).toBe(1)
    expect(await first.deps.db.pendingMigrations()).toEqual([])
    expect((await first.request('/sellers')).status).toBe(200)
  } finally {
    await first.close()
  }

  const second = await startTestService(env)
  try {
    expect(migrateDeployRuns()).toBe(1)
    expect((await second.request('/ready', { token: null })).status).toBe(200)
  } finally {
    await second.close()
  }
}, 60_000)
