// PostgreSQL (DATABASE_URL=postgresql://...), for several service replicas on one database: a
// connection pool of DATABASE_POOL_SIZE per process through @prisma/adapter-pg. Only src/db.ts
// imports this module.
import crypto from 'node:crypto'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/postgresql/client.js'
import type { ReadConnection } from './read-connection.js'

/** The client and the hot reads (src/db/read-connection.ts) share one pool of `poolSize` connections. */
export async function openPostgres(databaseUrl: string, poolSize: number): Promise<{ client: PrismaClient; reader: ReadConnection }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize })
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) })
  await client.$connect()
  return { client, reader: poolReader(pool) }
}

/**
 * Prisma stores DateTime as `timestamp(3)` (no time zone) holding UTC; pg would read it as local
 * time. Every other type keeps pg's parser.
 */
const TIMESTAMP_OID = 1114
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_OID ? (value: string) => new Date(`${value.replace(' ', 'T')}Z`) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

/** Named statements: each pool connection prepares a text once, then only binds and executes it. */
function poolReader(pool: pg.Pool): ReadConnection {
  const names = new Map<string, string>()
  const nameOf = (sql: string) => {
    let name = names.get(sql)
    if (!name) names.set(sql, (name = `read_${crypto.createHash('sha256').update(sql).digest('hex').slice(0, 24)}`))
    return name
  }
  return {
    async all<Row>(sql: string, params: readonly unknown[]) {
      const result = await pool.query({ name: nameOf(sql), text: sql, values: params as unknown[], types })
      return result.rows as Row[]
    },
    // The pool is ended by the client's $disconnect (disposeExternalPool).
    async close() {},
  }
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
