// PostgreSQL (DATABASE_URL=postgresql://...), for several service replicas on one database: a
// connection pool of DATABASE_POOL_SIZE per process through @prisma/adapter-pg. Only src/db.ts
// imports this module.
import crypto from 'node:crypto'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/postgresql/client.js'
import type { ReadConnection } from './read-connection.js'
import type { RunStatement, WriteConnection } from './write-connection.js'

/**
 * The client, the hot reads (src/db/read-connection.ts), the prepared writes
 * (src/db/write-connection.ts) and the NOTIFYs share one pool of `poolSize` connections.
 */
export async function openPostgres(
  databaseUrl: string,
  poolSize: number,
): Promise<{ client: PrismaClient; reader: ReadConnection; writer: WriteConnection; pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize })
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) })
  await client.$connect()
  return { client, reader: poolReader(pool), writer: poolWriter(pool), pool }
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

/**
 * Named statements: each pool connection prepares a text once, then only binds and executes it. A
 * DateTime parameter is written as Prisma writes it: UTC without an offset (the column has no time
 * zone, and PostgreSQL would ignore an offset rather than apply it).
 */
const statementNames = new Map<string, string>()
function nameOf(sql: string): string {
  let name = statementNames.get(sql)
  if (!name) statementNames.set(sql, (name = `s_${crypto.createHash('sha256').update(sql).digest('hex').slice(0, 24)}`))
  return name
}

/** A DateTime as Prisma writes it to a `timestamp(3)` column: UTC, without an offset. */
export function postgresTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '')
}

function preparedOn(queryable: Pick<pg.Pool | pg.PoolClient, 'query'>): RunStatement {
  return async <Row>(sql: string, params: readonly unknown[]) => {
    const values = params.map((value) => (value instanceof Date ? postgresTimestamp(value) : value))
    try {
      const result = await queryable.query({ name: nameOf(sql), text: sql, values, types })
      return result.rows as Row[]
    } catch (error) {
      // A constraint error's detail quotes the failing row ("Failing row contains (...)"), tokens
      // and all: it must not reach a log line.
      if (error instanceof Error && 'detail' in error) delete error.detail
      throw error
    }
  }
}

function poolReader(pool: pg.Pool): ReadConnection {
  return {
    all: preparedOn(pool),
    // The pool is ended by the client's $disconnect (disposeExternalPool).
    async close() {},
  }
}

function poolWriter(pool: pg.Pool): WriteConnection {
  return {
    run: preparedOn(pool),
    async transaction(work) {
      const connection = await pool.connect()
      // Checked out, a client has no listener of the pool's: a socket error between two
      // statements would otherwise be an unhandled 'error' event. The next query fails instead.
      const ignore = () => {}
      connection.on('error', ignore)
      let broken: Error | undefined
      try {
        await connection.query('BEGIN')
        const result = await work(preparedOn(connection))
        await connection.query('COMMIT')
        return result
      } catch (error) {
        await connection.query('ROLLBACK').catch((rollbackFailed: Error) => void (broken = rollbackFailed))
        throw error
      } finally {
        connection.off('error', ignore)
        connection.release(broken) // a connection that could not roll back is closed, not reused
      }
    },
  }
}

export interface PostgresNotifications {
  /**
   * NOTIFY every other process listening on `channel` (after the commit it announces), about
   * `subject` if given; sent with the others asked for within NOTIFY_GATHER_MS, or `atOnce`, in a
   * statement of its own. Nothing is sent while no other replica listens.
   */
  notify(channel: string, subject?: string, options?: { atOnce?: boolean }): Promise<void>
  close(): Promise<void>
}

/**
 * The listening connection's application_name: a replica is a connection of that name on the
 * database (pg_stat_activity), which is how the others know it is there.
 */
export const LISTENER_APPLICATION_NAME = 'payments-listener'
/** Where a replica says it has started listening (its process id), so that the others notify it from then on. */
export const REPLICAS_CHANNEL = 'payments_replicas'
/** How often a replica looks for other replicas' listening connections (to learn that the last one went away). */
export const REPLICAS_LOOK_MS = 10_000
const RECONNECT_DELAYS_MS = [100, 500, 1000, 2000, 5000]
/** How long the listening connection may take to open before it counts as failed (and is tried again). */
const CONNECT_TIMEOUT_MS = 10_000
/**
 * How long notifications wait to go out together: the other replicas hear a change up to this much
 * later (their own work, a live status stream there, a worker woken there), for one statement per
 * window instead of about one per change (~2.3 per checkout at 8 concurrent ones, one at a time).
 */
export const NOTIFY_GATHER_MS = 20

/**
 * LISTEN/NOTIFY: a commit on one replica wakes the workers of the others at once instead of at their
 * next poll. One dedicated connection per process listens on `channels`; notifications go out on
 * the pool (a named statement on the driver: several per checkout, and Prisma would run each as a
 * raw query through its client and adapter, ~0.5-1 ms of CPU against ~0.1 ms). The
 * payload names the sending process, which already told its own listeners, then (after a space)
 * the subject, if any. A dropped listening connection (database restart, failover, a terminated
 * backend) is opened again, with every LISTEN, after a short delay (growing to 5 s while it
 * fails); then each channel's listeners hear a wake-up with no subject, since notifications sent
 * meanwhile were lost. Until then the workers' polls are the safety net.
 *
 * A replica alone on its database sends no notifications (about one statement per checkout saved).
 * A replica that starts listening (or listens again) says so on REPLICAS_CHANNEL, and the others
 * notify from the moment they hear it; each looks every REPLICAS_LOOK_MS for the others' listening
 * connections, and stops notifying once none is left. A replica that had stopped sends, on hearing
 * a hello, one notification without a subject on every channel: what it committed before it heard
 * the hello, after the new replica began to listen, is looked for there (workers claim, live
 * streams and seller caches read again), as after a reconnection.
 */
export async function startPostgresNotifications(
  databaseUrl: string,
  pool: Pick<pg.Pool, 'query'>,
  channels: readonly string[],
  deliver: (channel: string, subject: string | undefined) => void,
  options: { replicasLookMs?: number } = {},
): Promise<PostgresNotifications> {
  const processId = crypto.randomUUID()
  let listener: pg.Client | undefined
  let listenerPid: number | undefined // its backend's, not to count itself among the others
  let closed = false
  let retry: ReturnType<typeof setTimeout> | undefined
  let connecting: Promise<pg.Client | undefined> | undefined // a reconnection in progress
  // Whether another replica may be listening: until a look says no, and whenever one says hello.
  let othersListening = true
  let hellosHeard = 0

  // The notifications asked for within NOTIFY_GATHER_MS go out together, in one statement: a state
  // change announces two or three topics at once, and concurrent checkouts change their payments
  // a few milliseconds apart. Each distinct notification once (PostgreSQL would fold duplicates too).
  // Only the other processes wait: this one's listeners heard at once (Database.announce).
  let batch: { notifications: Map<string, { channel: string; payload: string }>; sent: Promise<void> } | undefined
  const send = (notifications: Iterable<{ channel: string; payload: string }>) => {
    const all = [...notifications]
    return pool.query({
      name: 'notify',
      text: 'SELECT pg_notify(n.channel, n.payload) FROM unnest($1::text[], $2::text[]) AS n(channel, payload)',
      values: [all.map((n) => n.channel), all.map((n) => n.payload)],
    })
  }

  async function connect(): Promise<pg.Client> {
    const connection = new pg.Client({ connectionString: databaseUrl, keepAlive: true, connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
    connection.on('error', () => {}) // 'end' follows
    connection.on('notification', (message) => {
      const [sender, subject] = (message.payload ?? '').split(/ (.*)/s)
      if (sender === processId) return
      if (message.channel !== REPLICAS_CHANNEL) return deliver(message.channel, subject)
      hellosHeard++
      if (othersListening) return
      othersListening = true
      // What this replica did not send while it thought itself alone: look for it, everywhere.
      send(channels.map((channel) => ({ channel, payload: processId }))).catch(() => {})
    })
    // A connection that ends once set up is opened again; one that ends while being set up fails it.
    let setUp = false
    let endedEarly = false
    connection.on('end', () => {
      if (!setUp) return void (endedEarly = true)
      if (listener === connection) listener = undefined
      othersListening = true // no hello can be heard meanwhile, nor trusted to have been
      if (!closed) reconnect(0)
    })
    await connection.connect()
    try {
      // One round trip: the name the replicas find each other by (set here, since an
      // application_name in DATABASE_URL would win over the one given to the client), every
      // LISTEN, and the backend's pid.
      const setUpResults = (await connection.query(
        [
          `SET application_name = ${pg.escapeLiteral(LISTENER_APPLICATION_NAME)}`,
          ...[...channels, REPLICAS_CHANNEL].map((channel) => `LISTEN ${pg.escapeIdentifier(channel)}`),
          'SELECT pg_backend_pid() AS "pid"',
        ].join('; '),
      )) as unknown as pg.QueryResult<{ pid: number }>[]
      listenerPid = setUpResults.at(-1)!.rows[0].pid
      // Listening now: from here on the others notify this one.
      await send([{ channel: REPLICAS_CHANNEL, payload: processId }])
      if (endedEarly) throw new Error('the listening connection ended while it was being set up')
    } catch (error) {
      await connection.end().catch(() => {})
      throw error // the caller tries again (or the start fails)
    }
    setUp = true
    return connection
  }

  function reconnect(attempt: number): void {
    retry = setTimeout(async () => {
      connecting = connect().catch(() => undefined)
      const connection = await connecting
      connecting = undefined
      if (closed) return void (await connection?.end().catch(() => {}))
      if (!connection) return reconnect(attempt + 1)
      listener = connection
      void lookForOthers() // replicas that started meanwhile said hello to a connection that was not there
      // What was missed meanwhile (a replica that found this one gone stopped notifying, and
      // notifies again from the hello on, with a wake-up of its own).
      for (const channel of channels) deliver(channel, undefined)
    }, RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)])
    retry.unref()
  }

  /** Whether any other replica's listening connection is open; a hello heard meanwhile wins over an answer of none. */
  async function lookForOthers(): Promise<void> {
    const lookingFrom = listener
    const ownPid = listenerPid
    if (!lookingFrom || ownPid === undefined) return void (othersListening = true)
    const hellosBefore = hellosHeard
    try {
      const { rows } = await pool.query<{ others: number }>({
        name: 'other_replicas',
        text: 'SELECT count(*)::int AS "others" FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> $2',
        values: [LISTENER_APPLICATION_NAME, ownPid],
      })
      // An answer counts only if this replica listened the whole time it was asked.
      if (listener === lookingFrom) othersListening = rows[0].others > 0 || hellosHeard !== hellosBefore
    } catch {
      othersListening = true
    }
  }

  listener = await connect()
  await lookForOthers()
  const looking = setInterval(() => void lookForOthers(), options.replicasLookMs ?? REPLICAS_LOOK_MS).unref()
  return {
    notify(channel, subject, options = {}) {
      if (!othersListening) return Promise.resolve()
      const payload = subject === undefined ? processId : `${processId} ${subject}`
      if (options.atOnce) return send([{ channel, payload }]).then(() => {})
      if (!batch) {
        const notifications = new Map<string, { channel: string; payload: string }>()
        const sent = new Promise<void>((resolve) => setTimeout(resolve, NOTIFY_GATHER_MS)).then(async () => {
          batch = undefined
          await send(notifications.values())
        })
        batch = { notifications, sent }
      }
      batch.notifications.set(`${channel} ${payload}`, { channel, payload })
      return batch.sent
    },
    async close() {
      closed = true
      clearTimeout(retry)
      clearInterval(looking)
      await batch?.sent.catch(() => {}) // the last changes' notifications still go out
      await connecting // a reconnection in progress ends its connection itself (closed)
      await listener?.end()
    },
  }
}
