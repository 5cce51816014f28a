// PostgreSQL (DATABASE_URL=postgresql://...), for several service replicas on one database: a
// connection pool of DATABASE_POOL_SIZE per process through @prisma/adapter-pg. Only src/db.ts
// imports this module.
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/postgresql/client.js'

export async function openPostgres(databaseUrl: string, poolSize: number): Promise<PrismaClient> {
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) })
  await client.$connect()
  return client
}
