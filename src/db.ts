// The one database seam. DATABASE_URL picks the provider: file:... is SQLite (src/db/sqlite.ts, the
// embedded default), postgresql://... is PostgreSQL (src/db/postgres.ts, for several replicas).
// Both run the same models (prisma/models.prisma) through their own generated client; everything
// else in src/ uses a Database and these functions and never asks which database it runs on.
// openDatabase() returns a Database; the service hands it to the modules that need it (src/deps.ts).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import type { PrismaClient } from './generated/sqlite/client.js'
import { dueClaimStatement, type DueClaim } from './db/claims.js'
import type { PostgresNotifications } from './db/postgres.js'
import { databaseProviderOf, prismaLayout, sqliteFolder, type DatabaseProvider } from './db/provider.js'
import type { ReadConnection } from './db/read-connection.js'
import type { RunStatement, WriteConnection } from './db/write-connection.js'
export { columnList } from './db/sql.js'

// The model API is the same on both providers; the types come from one of the two clients.
import { Prisma } from './generated/sqlite/client.js'
export { Prisma }
export type { Payment, Seller, WebhookEvent, PaymentState, IncomingPayment, WalletCleanup, WalletCleanupStep } from './generated/sqlite/client.js'
export { databaseProviderOf, type DatabaseProvider, type DueClaim, type PrismaClient, type RunStatement, type WriteConnection }

/**
 * What processes tell each other about: committed webhook events waiting for delivery, a payment
 * whose row changed, a seller whose registration changed (the subject names the payment or seller:
 * an id, never anything secret), a payment whose settlement is to be checked (the subject: when,
 * ISO 8601), and wallet clean-up steps due now. Each worker wakes only on the topics that can make
 * its work due (src/workers/), so a state change does not cost every job an empty claim.
 */
const topics = ['webhook_events', 'payment_updates', 'seller_updates', 'settlement_checks', 'wallet_cleanups'] as const
export type Topic = (typeof topics)[number]
/**
 * Announced to the other processes at once, not gathered with others for a few milliseconds
 * (src/db/postgres.ts NOTIFY_GATHER_MS): a seller's change has every replica drop the grant tokens
 * of its old identity, and it is rare.
 */
const topicsAnnouncedAtOnce: ReadonlySet<Topic> = new Set(['seller_updates'])
/** Hears an announcement's subject; undefined when there is none, or on a poll (see onAnnouncement). */
export type AnnouncementListener = (subject: string | undefined) => void

/** One open database: the Prisma models and the few things the service asks of the database beside them. */
export interface Database {
  readonly provider: DatabaseProvider
  /** The Prisma models (the same API on both providers). */
  readonly prisma: PrismaClient
  /**
   * The rows of one read-only SELECT, as a prepared statement on the driver, outside the ORM and
   * outside any transaction: only committed rows (src/db/read-connection.ts). For the few hottest
   * reads; portable SQL with quoted identifiers and `$1, $2, ...` placeholders.
   */
  readRows<Row>(sql: string, params: readonly unknown[]): Promise<Row[]>
  /**
   * Leases up to `claim.limit` due rows to this process in one statement, safe when several
   * processes claim at once (src/db/claims.ts), as a prepared statement on the writer; returns
   * their ids and the `returning` columns as the driver reads them (text, numbers, and DateTime as
   * text on SQLite: src/payments/payment-rows.ts makes Payment rows Prisma-shaped). For src/workers/.
   */
  claimDueRows<Row extends { id: string } = { id: string }>(claim: DueClaim): Promise<Row[]>
  /**
   * Statements on the connection that writes, as prepared statements outside the ORM
   * (src/db/write-connection.ts): one on its own (`run`), or several as one transaction. For the
   * service's most frequent writes (src/payments/transitions.ts); portable SQL as for readRows.
   */
  readonly writer: WriteConnection
  /**
   * Whether one statement may change a row and insert rows computed from the changed row (a
   * data-modifying WITH: PostgreSQL). A payment change and its event then cost one round trip
   * instead of four (BEGIN, UPDATE, INSERT, COMMIT: src/payments/transitions.ts). SQLite has no
   * such statement, and its several statements cost no round trips.
   */
  readonly changesWithInserts: boolean
  /**
   * Tells every process on this database that `topic` has news, optionally about `subject` (a short
   * public id: it travels in the clear); call it after the commit. Listeners on this Database hear
   * at once; on PostgreSQL the other replicas hear through NOTIFY. (Other processes on one SQLite
   * file find out at their next poll.)
   */
  announce(topic: Topic, subject?: string): void
  /**
   * Calls `listener` on each announcement of `topic` (from this process or another); returns the
   * unsubscribe. With `pollMs`, where announcements cannot cross processes (SQLite), the listener
   * is also called every `pollMs` with no subject while it is registered, to look for itself.
   */
  onAnnouncement(topic: Topic, listener: AnnouncementListener, options?: { pollMs?: number }): () => void
  /**
   * The committed migrations (shipped beside src/ or dist/) this database has not applied; throws
   * when the database cannot be reached. For the readiness check.
   */
  pendingMigrations(): Promise<string[]>
  close(): Promise<void>
}

function providerOf(databaseUrl: string): DatabaseProvider {
  const provider = databaseProviderOf(databaseUrl)
  if (!provider) throw new Error('DATABASE_URL must be file:... (SQLite) or postgresql://... (PostgreSQL)')
  return provider
}

export async function openDatabase(databaseUrl: string, options: { poolSize?: number } = {}): Promise<Database> {
  const provider = providerOf(databaseUrl)
  const listeners = new Map<Topic, Set<AnnouncementListener>>()
  const tellListeners = (topic: Topic, subject: string | undefined) => {
    for (const listener of listeners.get(topic) ?? []) listener(subject)
  }
  let prisma: PrismaClient
  let reader: ReadConnection
  let writer: WriteConnection
  let notifications: PostgresNotifications | undefined
  let closeLog: (() => Promise<void> | undefined) | undefined
  // Each provider's client, driver and adapter load only when used: for the other they are start-up time for nothing.
  if (provider === 'postgresql') {
    const postgres = await import('./db/postgres.js')
    const opened = await postgres.openPostgres(databaseUrl, options.poolSize ?? 10)
    // Same models, same generated API: the PostgreSQL client serves where the SQLite one is typed.
    prisma = opened.client as unknown as PrismaClient
    reader = opened.reader
    writer = opened.writer
    // Every topic from the start: a listener registered later misses nothing committed after it.
    notifications = await postgres
      .startPostgresNotifications(databaseUrl, opened.pool, topics, (channel, subject) => tellListeners(channel as Topic, subject))
      .catch(async (error: unknown) => {
        await prisma.$disconnect().catch(() => {}) // and the pool with it
        throw error
      })
  } else {
    const sqlite = await import('./db/sqlite.js')
    const opened = await sqlite.openSqlite(databaseUrl)
    prisma = opened.client
    writer = opened.writer
    reader = sqlite.openSqliteReader(databaseUrl, opened.log)
    closeLog = () => opened.log?.close()
  }
  const migrationsFolder = path.resolve(import.meta.dirname, '..', prismaLayout[provider].migrations)

  return {
    provider,
    prisma,
    readRows: <Row>(sql: string, params: readonly unknown[]) => reader.all<Row>(sql, params),
    writer,
    changesWithInserts: provider === 'postgresql',
    claimDueRows<Row extends { id: string }>(claim: DueClaim) {
      const statement = dueClaimStatement(provider, claim)
      // A lease: not worth a sync of its own (see StatementOptions).
      return writer.run<Row>(statement.text, statement.values, { durable: false })
    },
    announce(topic, subject) {
      tellListeners(topic, subject)
      // Best effort: the others' polls are the safety net.
      notifications?.notify(topic, subject, { atOnce: topicsAnnouncedAtOnce.has(topic) }).catch(() => {})
    },
    onAnnouncement(topic, listener, options = {}) {
      if (!listeners.has(topic)) listeners.set(topic, new Set())
      listeners.get(topic)!.add(listener)
      const poll = options.pollMs && !notifications ? setInterval(() => listener(undefined), options.pollMs) : undefined
      poll?.unref()
      return () => {
        clearInterval(poll)
        listeners.get(topic)!.delete(listener)
      }
    },
    async pendingMigrations() {
      const committed = fs.readdirSync(migrationsFolder).filter((name) => /^\d/.test(name))
      const applied = await prisma.$queryRawUnsafe<{ migration_name: string }[]>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      )
      const done = new Set(applied.map((row) => row.migration_name))
      return committed.filter((name) => !done.has(name))
    },
    async close() {
      await notifications?.close()
      await reader.close()
      await prisma.$disconnect()
      await closeLog?.()
    },
  }
}

/**
 * Whether `error` is a unique key refusing a second row with the same value: a Prisma query's
 * (P2002) or a prepared statement's on either driver (SQLite's constraint codes, PostgreSQL's 23505).
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (error instanceof Prisma.PrismaClientKnownRequestError) return code === 'P2002'
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505'
}

/**
 * Where a development-only secret may be generated and kept: beside the SQLite file. Undefined on
 * PostgreSQL, where replicas share one database and must share their secrets through configuration.
 */
export function localSecretsFolder(databaseUrl: string): string | undefined {
  return providerOf(databaseUrl) === 'sqlite' ? sqliteFolder(databaseUrl) : undefined
}

/**
 * Start-up's migration step, on a database openDatabase() opened: runs the Prisma CLI
 * (migrateDatabase) unless every committed migration is already applied. Spawning the CLI costs
 * over a second even when it has nothing to do. Anything else (a migration pending, or one another
 * process is applying right now: unfinished rows count as pending; no migration table yet; the
 * check failing) runs the CLI, which takes its turn behind any other migrator and applies what is
 * left, or fails with its own message.
 */
export async function migrateIfPending(db: Database, databaseUrl: string, options: MigrateOptions = {}): Promise<void> {
  const pending = await db.pendingMigrations().catch(() => undefined)
  if (pending?.length === 0) return
  await migrateDatabase(databaseUrl, options)
}

export interface MigrateOptions {
  /** Hears when the CLI gave up waiting for another process's migrations (see migrateDatabase), before this process waits on. */
  onWaiting?: () => void
  /** Hears, every `reportEveryMs` of that wait (default 30 s), which connection holds the lock (no query text). */
  onStillWaiting?: (holder: MigrationLockHolder | undefined) => void
  reportEveryMs?: number
}

/** Who holds the migration lock, as pg_stat_activity tells it. */
export interface MigrationLockHolder {
  pid: number
  applicationName: string
  state: string | null
  since: Date | null
}

/** The advisory lock Prisma's schema engine takes on PostgreSQL while it migrates, when its P1002 message does not name it. */
export const PRISMA_MIGRATION_LOCK = 72707369

/**
 * Applies pending migrations with the Prisma CLI (`prisma migrate deploy`, as the Dockerfile does);
 * prisma.config.ts picks the provider's schema and history from DATABASE_URL. Several processes
 * starting at once take turns (PostgreSQL: the engine's advisory lock; SQLite: see
 * prisma/migration-adapter.ts). On PostgreSQL the CLI waits only 10 s for that lock, then fails
 * (P1002), and its connection's backend stays queued for the lock until it gets it. When another
 * process's migrations take longer (a large table's index, a busy machine), this process waits for
 * the lock on a connection of its own, for as long as they take (saying every 30 s who holds it),
 * then runs the CLI again, which skips what the other process applied. Any other failure throws at
 * once, with the CLI's output.
 */
export async function migrateDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<void> {
  const provider = providerOf(databaseUrl)
  for (;;) {
    const { code, output } = await runMigrateDeploy(databaseUrl)
    if (code === 0) return
    if (provider !== 'postgresql' || !isMigrationLockTimeout(output)) throw new Error(`prisma migrate deploy failed (exit ${code}):\n${output}`)
    options.onWaiting?.()
    const lock = /pg_advisory_lock\((\d+)\)/.exec(output)?.[1] ?? String(PRISMA_MIGRATION_LOCK) // a bigint, as text
    await waitForMigrationLock(databaseUrl, lock, options)
  }
}

/** The CLI's failure when another process held the advisory lock for its whole wait. */
function isMigrationLockTimeout(output: string): boolean {
  return /\bP1002\b/.test(output) && /advisory lock/i.test(output)
}

/**
 * Waits until advisory lock `lock` is free: takes it and gives it back at once (the CLI then takes
 * it). Waits in steps of `reportEveryMs` (lock_timeout), reporting the holder after each.
 */
async function waitForMigrationLock(databaseUrl: string, lock: string, { onStillWaiting, reportEveryMs = 30_000 }: MigrateOptions): Promise<void> {
  const { default: pg } = await import('pg')
  const connection = new pg.Client({ connectionString: databaseUrl, keepAlive: true, application_name: 'payments-migration-wait' })
  connection.on('error', () => {}) // a connection lost while waiting fails the query below instead
  await connection.connect()
  try {
    await connection.query(`SET lock_timeout = ${Math.max(1, Math.round(reportEveryMs))}`)
    for (;;) {
      try {
        await connection.query('SELECT pg_advisory_lock($1::bigint)', [lock])
        break
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03') throw error // lock_not_available: lock_timeout ran out
        const { rows } = await connection.query<MigrationLockHolder>(
          `SELECT a.pid, a.application_name AS "applicationName", a.state, a.state_change AS "since"
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND (l.classid::bigint << 32) + l.objid::bigint = $1::bigint`,
          [lock],
        )
        onStillWaiting?.(rows[0])
      }
    }
    await connection.query('SELECT pg_advisory_unlock($1::bigint)', [lock])
  } finally {
    await connection.end().catch(() => {})
  }
}

async function runMigrateDeploy(databaseUrl: string): Promise<{ code: number | null; output: string }> {
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
  return { code, output: Buffer.concat(output).toString() }
}
