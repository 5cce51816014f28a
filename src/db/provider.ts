// Which database a DATABASE_URL names, and where each provider's Prisma schema and migration history
// live (prisma.config.ts, scripts/prisma-providers.ts and the readiness check read them here). Kept
// apart from the clients so that configuration can check a URL without loading Prisma, and a
// service on one database does not load the other's driver.
import fs from 'node:fs'
import path from 'node:path'

export type DatabaseProvider = 'sqlite' | 'postgresql'

export function databaseProviderOf(databaseUrl: string): DatabaseProvider | undefined {
  if (/^file:.+/.test(databaseUrl)) return 'sqlite'
  if (/^postgres(ql)?:\/\/.+/.test(databaseUrl)) return 'postgresql'
  return undefined
}

/** Relative to the repository (or image) root. SQLite's history keeps Prisma's default folder. */
export const prismaLayout = {
  sqlite: { schema: 'prisma/sqlite', migrations: 'prisma/migrations' },
  postgresql: { schema: 'prisma/postgresql', migrations: 'prisma/postgresql/migrations' },
} as const satisfies Record<DatabaseProvider, { schema: string; migrations: string }>

/** The file a SQLite DATABASE_URL names. */
export function sqlitePath(databaseUrl: string): string {
  return databaseUrl.replace(/^file:/, '')
}

/** The folder the SQLite database file lives in (created when missing). */
export function sqliteFolder(databaseUrl: string): string {
  const folder = path.dirname(path.resolve(sqlitePath(databaseUrl)))
  fs.mkdirSync(folder, { recursive: true })
  return folder
}
