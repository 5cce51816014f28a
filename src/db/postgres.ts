// PostgreSQL (DATABASE_URL=postgresql://...), for several service replicas on one database: a
// connection pool of DATABASE_POOL_SIZE per process through @prisma/adapter-pg. Only src/db.ts
// imports this module.
import crypto from 'node:crypto'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/postgresql/client.js'

export async function openPostgres(databaseUrl: string, poolSize: number): Promise<PrismaClient> {
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) })
  await client.$connect()
  return client
}

export interface PostgresNotifications {
  /** NOTIFY every other process listening on `channel` (after the commit it announces), about `subject` if given. */
  notify(channel: string, subject?: string): Promise<void>
  /** LISTEN on `channel`; `deliver` hears notifications sent by other processes. */
  listen(channel: string): Promise<void>
  close(): Promise<void>
}

/**
 * LISTEN/NOTIFY: a commit on one replica wakes the workers of the others at once instead of at their
 * next poll. One dedicated connection per process listens; notifications go out on the pool. The
 * payload names the sending process, which already told its own listeners, then (after a space)
 * the subject, if any. A lost listening connection only costs latency: the workers' polls remain
 * the safety net.
 */
export async function startPostgresNotifications(
  databaseUrl: string,
  client: { $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number> },
  deliver: (channel: string, subject: string | undefined) => void,
): Promise<PostgresNotifications> {
  const processId = crypto.randomUUID()
  const listener = new pg.Client({ connectionString: databaseUrl })
  listener.on('error', () => {}) // see above: polling covers a dropped connection
  listener.on('notification', (message) => {
    const [sender, subject] = (message.payload ?? '').split(/ (.*)/s)
    if (sender !== processId) deliver(message.channel, subject)
  })
  await listener.connect()
  return {
    async notify(channel, subject) {
      await client.$executeRawUnsafe('SELECT pg_notify($1, $2)', channel, subject === undefined ? processId : `${processId} ${subject}`)
    },
    async listen(channel) {
      await listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
    },
    close: () => listener.end(),
  }
}
