// Which database a DATABASE_URL names. Kept apart from the clients so that configuration can check
// a URL without loading Prisma.
export type DatabaseProvider = 'sqlite' | 'postgresql'

export function databaseProviderOf(databaseUrl: string): DatabaseProvider | undefined {
  if (/^file:.+/.test(databaseUrl)) return 'sqlite'
  if (/^postgres(ql)?:\/\/.+/.test(databaseUrl)) return 'postgresql'
  return undefined
}
