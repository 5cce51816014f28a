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

type Factory = PrismaBetterSQLite3
type Adapter = Awaited<ReturnType<Factory['connect']>>

/**
 * Workaround (@prisma/adapter-better-sqlite3 6.19.3): the adapter runs every query of the process
 * on ONE connection and only serialises transactions with each other. A plain query issued while
 * an interactive transaction is open runs inside it: it sees uncommitted rows (a webhook could be
 * sent before its commit) and its writes roll back with that transaction. This wrapper makes
 * plain queries wait while a transaction is open, which is what a connection pool would give.
 * (A plain `db` query inside a `$transaction` callback must use `tx` instead, or it waits forever.)
 */
function isolateTransactions(factory: Factory): Factory {
  let tail = Promise.resolve()
  const acquire = () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const ready = tail.then(() => release)
    tail = tail.then(() => held)
    return ready
  }
  const exclusive = async <T>(run: () => Promise<T>): Promise<T> => {
    const release = await acquire()
    try {
      return await run()
    } finally {
      release()
    }
  }
  const connect = factory.connect.bind(factory)
  factory.connect = async () => {
    const adapter = await connect()
    return new Proxy(adapter, {
      get(target, prop) {
        if (prop === 'queryRaw' || prop === 'executeRaw' || prop === 'executeScript') {
          const method = (target[prop] as (arg: never) => Promise<unknown>).bind(target)
          return (arg: never) => exclusive(() => method(arg))
        }
        if (prop === 'startTransaction') {
          return async (isolationLevel?: Parameters<Adapter['startTransaction']>[0]) => {
            const release = await acquire()
            try {
              const tx = await target.startTransaction(isolationLevel)
              let open = true
              const end = (finish: () => Promise<void>) => async () => {
                try {
                  await finish()
                } finally {
                  if (open) (open = false), release()
                }
              }
              tx.commit = end(tx.commit.bind(tx))
              tx.rollback = end(tx.rollback.bind(tx))
              return tx
            } catch (error) {
              release()
              throw error
            }
          }
        }
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as Adapter
  }
  return factory
}

export function sqlitePath(databaseUrl: string): string {
  return databaseUrl.replace(/^file:/, '')
}

export async function openDatabase(databaseUrl: string): Promise<PrismaClient> {
  fs.mkdirSync(path.dirname(path.resolve(sqlitePath(databaseUrl))), { recursive: true })
  const client = new PrismaClient({ adapter: isolateTransactions(new PrismaBetterSQLite3({ url: databaseUrl, timeout: BUSY_TIMEOUT_MS })) })
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
