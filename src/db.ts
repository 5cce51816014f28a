// The Prisma client on its driver adapter. SQLite runs in WAL mode with a busy timeout so that
// concurrent requests (and a second service process on the same file) wait instead of failing
// with SQLITE_BUSY. Other modules import `db`; it is set once by openDatabase().
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from './generated/prisma/client.js'

export { Prisma } from './generated/prisma/client.js'
export type { Payment, Seller, WebhookEvent, PaymentState } from './generated/prisma/client.js'

const BUSY_TIMEOUT_MS = 10_000

export let db: PrismaClient

export function sqlitePath(databaseUrl: string): string {
  return databaseUrl.replace(/^file:/, '')
}

export async function openDatabase(databaseUrl: string): Promise<PrismaClient> {
  fs.mkdirSync(path.dirname(path.resolve(sqlitePath(databaseUrl))), { recursive: true })
  const client = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: databaseUrl, timeout: BUSY_TIMEOUT_MS }) })
  await client.$queryRawUnsafe('PRAGMA journal_mode = WAL')
  await client.$queryRawUnsafe(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
  await client.$queryRawUnsafe('PRAGMA foreign_keys = ON')
  db = client
  return client
}

export async function closeDatabase(): Promise<void> {
  await db?.$disconnect()
}

/** Applies pending migrations with the Prisma CLI (`prisma migrate deploy`), as the Dockerfile does. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(sqlitePath(databaseUrl))), { recursive: true })
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js')
  const output: Buffer[] = []
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.on('data', (d) => output.push(d))
    child.stderr.on('data', (d) => output.push(d))
    child.on('error', reject)
    child.on('exit', resolve)
  })
  if (code !== 0) throw new Error(`prisma migrate deploy failed (exit ${code}):\n${Buffer.concat(output).toString()}`)
}
