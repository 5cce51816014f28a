// The LISTEN connection of a replica is opened again when it drops: after its backend is
// terminated (as a database restart or failover would), an announcement from another process
// still arrives. A replica alone on its database sends no NOTIFY; it notifies another from the
// moment that one says hello, and stops once that one's listening connection is gone.
// (PostgreSQL only: SQLite has no cross-process announcements.)
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db.js'
import { LISTENER_APPLICATION_NAME, REPLICAS_CHANNEL, startPostgresNotifications } from '../../src/db/postgres.js'
import { connectAsReplica, testProvider } from '../database.js'
import { startTestService, waitFor, type TestService } from '../harness.js'

describe.runIf(testProvider === 'postgresql')('the LISTEN connection', () => {
  let service: TestService
  let other: pg.Client
  beforeAll(async () => {
    service = await startTestService()
    // Another replica on the same database, as far as the service can tell.
    other = await connectAsReplica(service.databaseUrl)
  })
  afterAll(async () => {
    await other?.end()
    await service?.close()
  })

  const listenerPids = async () =>
    (
      await other.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()',
        [LISTENER_APPLICATION_NAME],
      )
    ).rows.map((row) => row.pid)

  /** NOTIFY as another replica does: "<its process id> <subject>". */
  const announceFromElsewhere = (subject: string) => other.query(`SELECT pg_notify('payment_updates', $1)`, [`another-process ${subject}`])

  it('is opened again after its backend is terminated; announcements from another process still arrive', async () => {
    const heard: (string | undefined)[] = []
    const stop = service.deps.db.onAnnouncement('payment_updates', (subject) => heard.push(subject))
    try {
      await announceFromElsewhere('before')
      await waitFor(() => heard.includes('before'), 5000)

      const [pid] = await listenerPids()
      expect(pid).toBeTypeOf('number')
      await other.query('SELECT pg_terminate_backend($1)', [pid])
      // A new listening connection replaces it; its listeners get a wake-up for what was missed.
      const [newPid] = await waitFor(async () => {
        const pids = await listenerPids()
        return pids.length === 1 && pids[0] !== pid && pids
      }, 10_000)
      expect(newPid).not.toBe(pid)
      await waitFor(() => heard.includes(undefined), 5000)

      await announceFromElsewhere('after')
      await waitFor(() => heard.includes('after'), 5000)
    } finally {
      stop()
    }
  }, 30_000)

  // Notifications wait up to NOTIFY_GATHER_MS to go out together; a process closing its database
  // (a graceful shutdown) still sends those of its last changes.
  it('sends the notifications still gathering when the database closes', async () => {
    const heard: (string | null)[] = []
    const onNotification = (n: pg.Notification) => heard.push(n.payload?.split(' ').slice(1).join(' ') ?? null)
    other.on('notification', onNotification)
    await other.query('LISTEN wallet_cleanups')
    try {
      const db = await openDatabase(service.databaseUrl)
      db.announce('wallet_cleanups', 'announced just before closing')
      await db.close()
      await waitFor(() => heard.includes('announced just before closing'), 3000)
    } finally {
      other.off('notification', onNotification)
      await other.query('UNLISTEN wallet_cleanups')
    }
  })

  // A seller's change is not gathered: other replicas drop the old identity's grant tokens at once.
  it("sends a seller's change at once, ahead of notifications announced before it and still gathering", async () => {
    const heard: string[] = []
    const onNotification = (n: pg.Notification) => heard.push(`${n.channel} ${n.payload?.split(' ').slice(1).join(' ')}`)
    other.on('notification', onNotification)
    await other.query('LISTEN wallet_cleanups')
    await other.query('LISTEN seller_updates')
    try {
      service.deps.db.announce('wallet_cleanups', 'gathered')
      service.deps.db.announce('seller_updates', 'seller-at-once')
      await waitFor(() => heard.length === 2, 3000)
      expect(heard).toEqual(['seller_updates seller-at-once', 'wallet_cleanups gathered'])
    } finally {
      other.off('notification', onNotification)
      await other.query('UNLISTEN *')
    }
  })

  it('sends nothing while no other replica listens; notifies one from its hello on, and stops once it is gone', async () => {
    // A database of its own, to be alone on: the service and `other` are replicas of another
    // database, and count for nothing there. (Its name has the run's prefix: the run drops it.)
    const name = `${new URL(service.databaseUrl).pathname.slice(1)}_alone`
    await other.query(`CREATE DATABASE "${name}"`)
    const aloneUrl = Object.assign(new URL(service.databaseUrl), { pathname: `/${name}` }).toString()
    const alonePool = new pg.Pool({ connectionString: aloneUrl, max: 2 })
    const heard: string[] = []
    const listening = new pg.Client({ connectionString: aloneUrl }) // hears the NOTIFYs, and is no replica
    await listening.connect()
    listening.on('notification', (n) => n.channel !== REPLICAS_CHANNEL && heard.push(n.payload!.split(' ').slice(1).join(' ')))
    await listening.query('LISTEN wallet_cleanups')
    let notifications = await startPostgresNotifications(aloneUrl, alonePool, ['wallet_cleanups'], () => {}, { replicasLookMs: 60_000 })
    let replica: pg.Client | undefined
    let peer: Awaited<ReturnType<typeof startPostgresNotifications>> | undefined
    try {
      await notifications.notify('wallet_cleanups', 'alone', { atOnce: true })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(heard).toEqual([])

      // Its next look is a minute away: the hello alone tells it, and it sends a wake-up without a
      // subject ('') on every channel, for what it did not send while it thought itself alone.
      replica = await connectAsReplica(aloneUrl)
      await waitFor(() => heard.includes(''), 3000)
      await notifications.notify('wallet_cleanups', 'with a replica', { atOnce: true })
      await waitFor(() => heard.includes('with a replica'), 3000)
      await notifications.close()

      // Looking every 200 ms: it finds the replica at start, and finds it gone.
      notifications = await startPostgresNotifications(aloneUrl, alonePool, ['wallet_cleanups'], () => {}, { replicasLookMs: 200 })
      await notifications.notify('wallet_cleanups', 'found at start', { atOnce: true })
      await waitFor(() => heard.includes('found at start'), 3000)
      await replica.end()
      replica = undefined
      await new Promise((resolve) => setTimeout(resolve, 600)) // a look or two
      await notifications.notify('wallet_cleanups', 'alone again', { atOnce: true })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(heard).toEqual(['', 'with a replica', 'found at start'])

      // Two replicas whose DATABASE_URL names another application_name still find each other.
      const namedUrl = `${aloneUrl}?application_name=payments-api`
      const peerHeard: (string | undefined)[] = []
      peer = await startPostgresNotifications(namedUrl, alonePool, ['wallet_cleanups'], (_, subject) => peerHeard.push(subject), { replicasLookMs: 200 })
      await new Promise((resolve) => setTimeout(resolve, 600)) // a look or two after its hello
      await notifications.notify('wallet_cleanups', 'to a named peer', { atOnce: true })
      await waitFor(() => peerHeard.includes('to a named peer'), 3000)
    } finally {
      await peer?.close()
      await replica?.end()
      await notifications.close()
      await listening.end()
      await alonePool.end()
    }
  })
})
