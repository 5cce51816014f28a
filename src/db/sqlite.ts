// SQLite (DATABASE_URL=file:...), the embedded default: one file, WAL mode with a busy timeout so
// that concurrent requests (and other service processes on the same file) wait instead of failing
// with SQLITE_BUSY. Only src/db.ts imports this module.
import { setTimeout as sleep } from 'node:timers/promises'
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3'
import Database from 'better-sqlite3'
import { PrismaClient } from '../generated/sqlite/client.js'
import { sqliteFolder, sqlitePath } from './provider.js'
import type { ReadConnection } from './read-connection.js'
import { walSync, type WalSync } from './wal-sync.js'
import type { RunStatement, WriteConnection } from './write-connection.js'

const BUSY_TIMEOUT_MS = 10_000
/**
 * How much of the database file the read connection maps into memory: a page it reads is then a
 * memory access rather than a read() system call (SQLite's default maps nothing). The mapped
 * pages are the kernel's page cache, shared and reclaimable, not the process's heap; they show in
 * its RSS as file-backed memory (RssFile) once touched. Past 256 MB, pages are read as before.
 * The price: a disk that fails a read of a mapped page (or a file truncated from outside, such as
 * a backup copied over a running service) stops the process with SIGBUS instead of failing one
 * request, as a failed sync stops its writes (src/db/wal-sync.ts). Its supervisor restarts it.
 */
const READER_MMAP_BYTES = 256 * 1024 * 1024

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
function isolateTransactions(factory: Factory): { factory: Factory; writer: WriteConnection; commitInGroups(log: WalSync): Promise<void> } {
  let tail = Promise.resolve()
  // The connection Prisma's adapter opened: the service's own prepared writes
  // (src/db/write-connection.ts) run on it too, taking their turn on the same lock.
  let connection: Database.Database | undefined
  const statements = new Map<string, Database.Statement>()
  const acquire = () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const ready = tail.then(() => release)
    tail = tail.then(() => held)
    return ready
  }
  // How a commit reaches the disk. Until the database is known to be in WAL mode: inside COMMIT
  // (`synchronous = FULL`). Then in groups (src/db/wal-sync.ts): the connection commits at NORMAL
  // and a durable turn (StatementOptions.durable) resolves once the log is synced; that wait
  // happens after the turn, off the connection, so the next turn need not wait for it. Any other
  // turn (a lease, a read, a failed write) resolves once what it saw is on disk, so that nothing
  // it returns can be acted upon before then: the commits of this process before it, and those of
  // other connections (processes on the same file), which `PRAGMA data_version` reveals.
  let log: WalSync | undefined
  const synchronous = () => (log ? 'NORMAL' : 'FULL')
  const seen = { version: undefined as number | undefined }
  let dataVersion: Database.Statement | undefined
  const afterTurn = (durable: boolean): Promise<void> | undefined => {
    if (!log || !connection) return undefined
    if (durable) return log.sync()
    dataVersion ??= connection.prepare('PRAGMA data_version').pluck()
    return log.syncSeen(seen, dataVersion.get() as number)
  }
  const exclusive = async <T>(work: () => Promise<T>, durable = true): Promise<T> => {
    log?.assertWritable() // no commit after a failed sync
    const release = await acquire()
    let result: T
    try {
      log?.assertWritable()
      result = await work()
    } catch (error) {
      release()
      await afterTurn(false)?.catch(() => {}) // what the error reveals (a row in the way) is on disk before it is reported
      throw error
    }
    release()
    await afterTurn(durable)
    return result
  }
  const connect = factory.connect.bind(factory)
  factory.connect = async () => {
    const adapter = await connect()
    connection = (adapter as unknown as { client: Database.Database }).client
    connection.pragma(`synchronous = ${synchronous()}`) // on every connection the adapter opens
    statements.clear() // prepared on the connection before, if any
    dataVersion = undefined
    seen.version = undefined
    return new Proxy(adapter, {
      get(target, prop) {
        if (prop === 'queryRaw' || prop === 'executeRaw' || prop === 'executeScript') {
          const method = (target[prop] as (query: { sql: string } | string) => Promise<unknown>).bind(target)
          // Prisma's reads (a statement beginning with SELECT) commit nothing: no sync of their own.
          // A script (executeScript: several statements) is treated as a write.
          return (query: { sql: string } | string) =>
            exclusive(() => method(query), typeof query === 'string' || !/^\s*SELECT\b/i.test(query.sql))
        }
        if (prop === 'startTransaction') {
          return async (isolationLevel?: Parameters<Adapter['startTransaction']>[0]) => {
            log?.assertWritable()
            const release = await acquire()
            try {
              log?.assertWritable()
              const tx = await target.startTransaction(isolationLevel)
              let open = true
              const end = (finish: () => Promise<void>, durable: boolean) => async () => {
                try {
                  await finish()
                } finally {
                  if (open) (open = false), release()
                }
                await afterTurn(durable)
              }
              tx.commit = end(tx.commit.bind(tx), true)
              tx.rollback = end(tx.rollback.bind(tx), false)
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

  const run: RunStatement = async <Row>(sql: string, params: readonly unknown[]) => {
    if (!connection) throw new Error('the SQLite connection is not open yet')
    let statement = statements.get(sql)
    if (!statement) statements.set(sql, (statement = connection.prepare(sql).safeIntegers(false)))
    const bindings = sqliteBindings(params)
    return (statement.reader ? statement.all(bindings) : (statement.run(bindings), [])) as Row[]
  }
  const writer: WriteConnection = {
    run: (sql, params, options = {}) => exclusive(() => run(sql, params), options.durable !== false),
    transaction: (work, options = {}) =>
      exclusive(async () => {
        await run('BEGIN IMMEDIATE', [])
        try {
          const result = await work(run)
          await run('COMMIT', [])
          return result
        } catch (error) {
          if (connection?.inTransaction) await run('ROLLBACK', []).catch(() => {}) // the work's error is the one to report
          throw error
        }
      }, options.durable !== false),
  }
  const commitInGroups = (wal: WalSync) =>
    exclusive(async () => {
      connection!.prepare('SELECT count(*) FROM sqlite_schema').get() // a first read creates the log
      await wal.open()
      log = wal
      connection!.pragma(`synchronous = ${synchronous()}`)
    }, false)
  return { factory, writer, commitInGroups }
}

/**
 * Parameters as Prisma's SQLite adapter writes them: `$1` is an SQLite named parameter (bind
 * {1: …, 2: …}); a DateTime is ISO 8601 text with +00:00 (so that text comparisons order it), a
 * Boolean 1 or 0.
 */
function sqliteBindings(params: readonly unknown[]): Record<number, unknown> {
  const bindings: Record<number, unknown> = {}
  params.forEach((value, i) => {
    bindings[i + 1] = value instanceof Date ? value.toISOString().replace('Z', '+00:00') : typeof value === 'boolean' ? Number(value) : value
  })
  return bindings
}

/**
 * The Prisma client and the service's prepared writes, on one connection (SQLite has one writer),
 * and the group commit of its write-ahead log (`log`: undefined when the database is not in WAL
 * mode, e.g. in memory; commits then wait for the disk inside COMMIT).
 */
export async function openSqlite(databaseUrl: string): Promise<{ client: PrismaClient; writer: WriteConnection; log: WalSync | undefined }> {
  sqliteFolder(databaseUrl)
  const { factory, writer, commitInGroups } = isolateTransactions(new PrismaBetterSQLite3({ url: databaseUrl, timeout: BUSY_TIMEOUT_MS }))
  const client = new PrismaClient({ adapter: factory })
  const [{ journal_mode: journalMode }] = await client.$queryRawUnsafe<{ journal_mode: string }[]>('PRAGMA journal_mode = WAL')
  await client.$queryRawUnsafe(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
  await client.$queryRawUnsafe('PRAGMA foreign_keys = ON')
  const log = journalMode === 'wal' ? walSync(sqlitePath(databaseUrl)) : undefined
  if (log) await commitInGroups(log)
  return { client, writer, log }
}

/**
 * A second connection for the hot reads (src/db/read-connection.ts). In WAL mode it reads the last
 * committed snapshot without waiting for the writer, so these reads are not queued behind the
 * transaction wrapper above, and never see a transaction that is still open. better-sqlite3 is
 * synchronous: a busy database is retried after a short sleep instead of blocking the event loop
 * in SQLite's busy handler (in WAL a reader is only ever busy during recovery after a crash).
 */
export function openSqliteReader(databaseUrl: string, log: WalSync | undefined): ReadConnection {
  const database = new Database(sqlitePath(databaseUrl), { fileMustExist: true })
  database.pragma('busy_timeout = 0')
  database.pragma('query_only = ON')
  database.pragma(`mmap_size = ${READER_MMAP_BYTES}`)
  const dataVersion = database.prepare('PRAGMA data_version').pluck()
  const seen = { version: undefined as number | undefined }
  const statements = new Map<string, Database.Statement>()
  const prepared = (sql: string) => {
    let statement = statements.get(sql)
    if (!statement) statements.set(sql, (statement = database.prepare(sql)))
    return statement
  }
  // The rows and the data_version of the snapshot they come from, in one read transaction: each
  // transaction takes and releases SQLite's locks (system calls), so one costs less than two.
  const readWithVersion = database.transaction((statement: Database.Statement, bindings: Record<number, unknown>) => ({
    rows: statement.all(bindings),
    version: dataVersion.get() as number,
  }))
  return {
    async all<Row>(sql: string, params: readonly unknown[]) {
      const bindings = sqliteBindings(params)
      for (let waited = 0; ; waited += 5) {
        try {
          const { rows, version } = readWithVersion(prepared(sql), bindings)
          // A commit is visible here before it is on disk (NORMAL, src/db/wal-sync.ts): no answer
          // shows a write a power cut could still undo.
          await log?.syncSeen(seen, version)
          return rows as Row[]
        } catch (error) {
          // better-sqlite3 names extended codes: SQLITE_BUSY_RECOVERY while another connection recovers the log.
          if (!String((error as { code?: string }).code).startsWith('SQLITE_BUSY') || waited >= BUSY_TIMEOUT_MS) throw error
          await sleep(5)
        }
      }
    },
    async close() {
      database.close()
    },
  }
}
