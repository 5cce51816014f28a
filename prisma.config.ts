// Prisma CLI configuration. The provider follows DATABASE_URL, as the service's does (src/db/):
// file:... is SQLite (prisma/sqlite/, migrations in prisma/migrations/), postgresql://... is
// PostgreSQL (prisma/postgresql/, migrations in prisma/postgresql/migrations/). Every workaround
// for running Prisma offline lives here or in prisma/migration-adapter.ts, each naming its version.
import { defineConfig } from 'prisma/config'
import { createMigrationAdapter } from './prisma/migration-adapter.js'
import { databaseProviderOf, prismaLayout } from './src/db/provider.js'

// Workaround (Prisma 6.19.3): with DATABASE_URL unset, `prisma generate` cannot resolve
// `env("DATABASE_URL")` and falls back to downloading a native engine from binaries.prisma.sh,
// which is unreachable here. Give it the same default the service uses (src/config.ts).
process.env.DATABASE_URL ??= 'file:./data/payments.db'
const layout = prismaLayout[databaseProviderOf(process.env.DATABASE_URL) ?? 'sqlite']

export default defineConfig({
  schema: layout.schema,
  migrations: { path: layout.migrations },
  // Workaround (Prisma 6.19.3): Prisma's native schema engine is downloaded at run time, which
  // cannot happen offline. The WebAssembly engine runs through a driver adapter instead.
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => createMigrationAdapter(process.env.DATABASE_URL!),
})
