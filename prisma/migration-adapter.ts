// The driver adapters the Prisma CLI (migrate deploy/dev/diff/status) runs its WebAssembly
// schema engine through, one per provider. Only the CLI uses this file; the app builds its own in
// src/db/. Every workaround here is for Prisma 6.19.3 and can go when Prisma fixes it.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'

type Factory = PrismaBetterSQLite3
type Adapter = Awaited<ReturnType<Factory['connect']>>
type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>

/** As long as the service waits for a lock (src/db.ts): a migration waits its turn like any writer. */
const BUSY_TIMEOUT_MS = 10_000
/** How long a migrating process waits for another one to finish its migrations. */
const MIGRATION_LOCK_WAIT_MS = 5 * 60_000

export function sqliteFilename(databaseUrl: string): string {
  if (!databaseUrl.startsWith('file:')) {
    throw new Error(`DATABASE_URL must be a SQLite file: URL, got ${databaseUrl.split(':')[0]}:`)
  }
  return databaseUrl.slice('file:'.length)
}

let migrationLock: Database.Database | undefined

/**
 * Workaround (Prisma 6.19.3 schema engine on SQLite): the engine starts with
 * `PRAGMA main.locking_mode=EXCLUSIVE` to keep other migrators out. On a WAL database (the service
 * runs in WAL mode) that lock needs every other connection to the file closed: a serving process, or
 * even an idle sqlite3 shell, makes the engine wait the busy timeout and fail with SQLITE_BUSY, which
 * the WASM engine reports as `unknown variant 'SocketTimeout'`. So the pragma is skipped: each
 * statement takes SQLite's normal locks and waits its turn, as the serving processes do. Migrators
 * are kept apart instead by an exclusive lock on a sidecar file (`<db>.migrate-lock`), held until
 * this CLI process exits; the operating system releases it if the process dies.
 */
function holdMigrationLock(filename: string): void {
  if (migrationLock) return
  const lockFile = `${path.resolve(filename)}.migrate-lock`
  const lock = new Database(lockFile, { timeout: 0 })
  try {
    lock.exec('BEGIN EXCLUSIVE')
  } catch (error) {
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error
    process.stderr.write(`Another process is applying migrations to ${filename}; waiting for it (${lockFile}).\n`)
    lock.pragma(`busy_timeout = ${MIGRATION_LOCK_WAIT_MS}`)
    lock.exec('BEGIN EXCLUSIVE')
  }
  migrationLock = lock
}

function skipExclusiveLockingMode(factory: Factory): void {
  const connect = factory.connect.bind(factory)
  factory.connect = async () => {
    const adapter = await connect()
    const executeRaw = adapter.executeRaw.bind(adapter)
    adapter.executeRaw = async (query) => (/^PRAGMA\s+main\.locking_mode\s*=\s*EXCLUSIVE$/i.test(query.sql.trim()) ? 0 : executeRaw(query))
    return adapter
  }
}

function createSqliteMigrationAdapter(databaseUrl: string): Factory {
  const filename = sqliteFilename(databaseUrl)
  // better-sqlite3 creates the file but not its folder (./data/ is absent in a fresh clone).
  fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true })
  holdMigrationLock(filename)
  const factory = new PrismaBetterSQLite3({ url: databaseUrl, timeout: BUSY_TIMEOUT_MS })
  skipExclusiveLockingMode(factory)
  const connectToShadowDb = factory.connectToShadowDb.bind(factory)
  // Workaround (Prisma 6.19.3, P3006 in `migrate dev` and `migrate diff --from-migrations`):
  // the WASM engine replays each old migration into the shadow database as ONE multi-statement
  // parameterless executeRaw, which better-sqlite3's prepare() rejects. Send those through
  // executeScript (better-sqlite3's exec), which runs a whole script. The shadow DB is :memory:.
  factory.connectToShadowDb = async () => {
    const shadow = (await connectToShadowDb()) as Adapter & { executeScript(s: string): Promise<void> }
    const executeRaw = shadow.executeRaw.bind(shadow)
    shadow.executeRaw = async (query) => {
      if (query.args.length === 0) {
        await shadow.executeScript(query.sql)
        return 0
      }
      return executeRaw(query)
    }
    return shadow
  }
  return factory
}

/** pg's connection settings as discrete fields (see the shadow database below). */
function postgresConfig(databaseUrl: string, database?: string): pg.PoolConfig {
  const url = new URL(databaseUrl)
  return {
    host: decodeURIComponent(url.hostname),
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username) || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: database ?? decodeURIComponent(url.pathname.slice(1)),
    ssl: ['require', 'verify-ca', 'verify-full'].includes(url.searchParams.get('sslmode') ?? '') || undefined,
    // The CLI exits once its work is done instead of holding idle connections open.
    allowExitOnIdle: true,
  }
}

/**
 * Workaround (adapter-pg 6.19.3 under the schema engine): the engine's catalog queries return
 * `name` (oid 19) and `"char"` (oid 18) columns, which the adapter refuses to map
 * (UnsupportedNativeDataType). They are text; report them as text (oid 25). Patched on the
 * adapter's query class, which transactions share; only the CLI process loads this file.
 */
function mapCatalogTypesAsText(adapter: PgAdapter): void {
  const queryable = Object.getPrototypeOf(Object.getPrototypeOf(adapter)) as { performIO(q: unknown): Promise<pg.QueryResult>; catalogTypesAsText?: true }
  if (queryable.catalogTypesAsText) return
  const performIO = queryable.performIO
  queryable.performIO = async function (this: unknown, query: unknown) {
    const result = await performIO.call(this, query)
    for (const field of result.fields) if (field.dataTypeID === 19 || field.dataTypeID === 18) field.dataTypeID = 25
    return result
  }
  queryable.catalogTypesAsText = true
}

function createPostgresMigrationAdapter(databaseUrl: string): PrismaPg {
  const factory = new PrismaPg(postgresConfig(databaseUrl))
  const connect = factory.connect.bind(factory)
  factory.connect = async () => {
    const adapter = await connect()
    mapCatalogTypesAsText(adapter)
    return adapter
  }
  // Workarounds for the shadow database of `migrate dev` and `migrate diff --from-migrations`:
  // adapter-pg builds its pool as {...config, database}, and a connectionString would win over
  // `database` (the "shadow" replay would hit the main database): discrete fields above. It drops
  // the shadow database before closing the shadow pool (which PostgreSQL refuses): close first.
  // The engine replays each old migration as ONE multi-statement parameterless executeRaw, which
  // pg's extended protocol rejects: those go through pg's simple query protocol.
  factory.connectToShadowDb = async () => {
    const main = await factory.connect()
    const database = `prisma_migrate_shadow_db_${crypto.randomUUID()}`
    await main.executeScript(`CREATE DATABASE "${database}"`)
    const pool = new pg.Pool(postgresConfig(databaseUrl, database))
    const shadow = await new PrismaPg(pool).connect()
    mapCatalogTypesAsText(shadow)
    const executeRaw = shadow.executeRaw.bind(shadow)
    shadow.executeRaw = async (query) => {
      if (query.args.length > 0) return executeRaw(query)
      const results = await pool.query(query.sql)
      return [results].flat().reduce((sum, result) => sum + (result.rowCount ?? 0), 0)
    }
    shadow.dispose = async () => {
      await pool.end()
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}"`)
      await main.dispose()
    }
    return shadow
  }
  return factory
}

/** The CLI's adapter for DATABASE_URL: file: is SQLite, postgres(ql):// is PostgreSQL. */
export function createMigrationAdapter(databaseUrl: string): Factory | PrismaPg {
  return /^postgres(ql)?:/.test(databaseUrl) ? createPostgresMigrationAdapter(databaseUrl) : createSqliteMigrationAdapter(databaseUrl)
}
