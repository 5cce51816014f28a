// The driver adapter the Prisma CLI (migrate deploy/dev/diff/status) runs its WebAssembly
// schema engine through. Only the CLI uses this file; the app builds its own in src/db.ts.
import fs from 'node:fs'
import path from 'node:path'
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3'

type Factory = PrismaBetterSQLite3
type Adapter = Awaited<ReturnType<Factory['connect']>>

export function sqliteFilename(databaseUrl: string): string {
  if (!databaseUrl.startsWith('file:')) {
    throw new Error(`DATABASE_URL must be a SQLite file: URL, got ${databaseUrl.split(':')[0]}:`)
  }
  return databaseUrl.slice('file:'.length)
}

export function createMigrationAdapter(databaseUrl: string): Factory {
  // better-sqlite3 creates the file but not its folder (./data/ is absent in a fresh clone).
  fs.mkdirSync(path.dirname(path.resolve(sqliteFilename(databaseUrl))), { recursive: true })
  const factory = new PrismaBetterSQLite3({ url: databaseUrl, timeout: 5000 })
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
