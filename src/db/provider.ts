// Which database a DATABASE_URL names, and where each provider's Prisma schema and migration history
// live (prisma.config.ts, scripts/prisma-providers.ts and the readiness check read them here). Kept
// apart from the clients so that configuration can check a URL without loading Prisma.
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
