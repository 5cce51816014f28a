// What start-up loads before the server listens (bench/startup.ts times it): the GraphQL stack
// loads after (src/app.ts loadGraphQLOnce), and a service on one database never loads the other's
// driver. graphql alone costs about 80 ms to load, the SQLite driver and its adapter 35 ms on a
// PostgreSQL start. In a child process: this process has loaded everything already.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { createTestDatabase, testProvider } from '../database.js'
import { makeTempDir } from '../harness.js'
import fs from 'node:fs'

const dir = makeTempDir('payments-modules-')
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const root = path.resolve(import.meta.dirname, '../..')

/**
 * The packages in the child's CommonJS module cache once it imported the service and opened
 * `databaseUrl` (graphql, pg, better-sqlite3 and pino are CommonJS; ES-module packages, such as
 * graphql-yoga, do not show there).
 */
function packagesLoadedByStart(databaseUrl: string): string[] {
  const script = `
    import { createRequire } from 'node:module'
    await import('./src/service.ts')
    const { openDatabase } = await import('./src/db.ts')
    const db = await openDatabase(process.env.DATABASE_URL)
    await db.close()
    const loaded = new Set(Object.keys(createRequire(import.meta.url).cache).map((file) => file.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//)?.[1]).filter(Boolean))
    console.log(JSON.stringify([...loaded]))`
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  })
  return JSON.parse(out.trim().split('\n').at(-1)!)
}

it(`loads neither graphql nor the other database's driver before listening (${testProvider})`, async () => {
  const loaded = packagesLoadedByStart(await createTestDatabase(dir))
  expect(loaded).toContain(testProvider === 'postgresql' ? 'pg' : 'better-sqlite3') // the probe sees what start-up loads
  expect(loaded).toContain('pino')
  expect(loaded).not.toContain('graphql')
  expect(loaded).not.toContain(testProvider === 'postgresql' ? 'better-sqlite3' : 'pg')
}, 60_000)
