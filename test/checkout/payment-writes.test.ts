// Payment changes are prepared statements on the database's writer (src/payments/payment-writes.ts,
// Database.writer), outside Prisma: what they write must be what Prisma reads back, column for
// column, on both databases; a change that loses its compare-and-set or throws half-way writes
// nothing; and Prisma's own queries never see (or join) a write transaction that is still open.
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { isUniqueViolation, openDatabase, type Payment } from '../../src/db.js'
import { sqlitePath } from '../../src/db/provider.js'
import { paymentInsert, paymentUpdate } from '../../src/payments/payment-writes.js'
import { createPayment as createPaymentRow, transitionPayment, updatePayment } from '../../src/payments/transitions.js'
import { buildPaymentEventBody } from '../../src/webhooks/outbox.js'
import { checkSettlementsJob } from '../../src/workers/check-settlements.js'
import { connectAsReplica, testProvider } from '../database.js'
import { startTestService, waitFor, type TestService } from '../harness.js'

let service: TestService
const id = (n: number) => `01KC${String(n).padStart(22, '0')}`
const at = new Date(Date.UTC(2026, 10, 29, 10, 30, 15, 123))
// The service's clock stands before `at`: the settlement worker finds nothing due and leaves the rows alone.
const serviceNow = new Date(Date.UTC(2026, 9, 1, 8))

async function createPayment(n: number, extra: Record<string, unknown> = {}) {
  return service.db.payment.create({
    data: {
      id: id(n), offerId: `job-${n}`, sellerId: 'seller-1', buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: '1250', assetCode: 'USD', assetScale: 2,
      redirectUrl: `https://wallet.example/interact/${n}`, incomingPaymentId: 'https://wallet.example/incoming/1', continueUri: 'https://wallet.example/continue/1',
      continueToken: 'v1.a.b.c', ...extra,
    },
  })
}

// The webhook dispatcher sends each event at once: to a receiver that takes the connection and
// never answers, so that no failed attempt rewrites an event (attempts, next attempt) under the test.
const sockets = new Set<net.Socket>()
const silentReceiver = net.createServer((socket) => void sockets.add(socket))

beforeAll(async () => {
  await new Promise<void>((resolve) => silentReceiver.listen(0, '127.0.0.1', resolve))
  const { port } = silentReceiver.address() as net.AddressInfo
  service = await startTestService({ DJANGO_BASE_URL: `http://127.0.0.1:${port}` }, { clock: { now: () => new Date(serviceNow) } })
  await service.db.seller.create({ data: { id: 'seller-1', walletAddressUrl: 'https://wallet.example/s1', keyId: 'k', privateKeyPath: 'k.pem' } })
})
afterAll(async () => {
  for (const socket of sockets) socket.destroy() // the deliveries in flight fail now, not at their timeout
  silentReceiver.close()
  await service?.close()
})

describe('payment changes on the writer', () => {
  it('return the row exactly as Prisma reads it back, every column, with its event in order', async () => {
    await createPayment(1)
    const before = Date.now()
    const changed = await transitionPayment(service.deps, id(1), ['AWAITING_APPROVAL'], {
      state: 'FINISHING', interactRef: 'ir', leaseUntil: at, quoteExpiresAt: at, debitAssetScale: 2, continueWaitSeconds: 5,
      failureMessage: 'quotes \' and "double" and ünïcode', checkAttempts: { increment: 3 },
    })
    const stored = await service.db.payment.findUniqueOrThrow({ where: { id: id(1) } })
    expect(changed).toEqual(stored)
    expect(stored).toMatchObject({ state: 'FINISHING', interactRef: 'ir', leaseUntil: at, quoteExpiresAt: at, checkAttempts: 3, eventCount: 1, failureMessage: 'quotes \' and "double" and ünïcode' })
    // As Prisma's @updatedAt: the system time (the service's clock stands weeks earlier here).
    expect(stored.updatedAt.getTime()).toBeGreaterThanOrEqual(before)
    expect(stored.updatedAt.getTime()).toBeLessThanOrEqual(Date.now())

    const again = await transitionPayment(service.deps, id(1), ['FINISHING'], { state: 'PROCESSING', leaseUntil: null, nextCheckAt: at, checkAttempts: 0 })
    expect(again).toEqual(await service.db.payment.findUniqueOrThrow({ where: { id: id(1) } }))
    expect(again).toMatchObject({ leaseUntil: null, nextCheckAt: at, eventCount: 2 })
    const events = await service.db.webhookEvent.findMany({ where: { paymentId: id(1) }, orderBy: { sequence: 'asc' } })
    expect(events.map((event) => [event.type, event.sequence, event.status, event.attempts])).toEqual([
      ['payment.approved', 1, 'PENDING', 0],
      ['payment.processing', 2, 'PENDING', 0],
    ])
    for (const event of events) {
      expect(event.nextAttemptAt).toEqual(event.createdAt)
      expect(JSON.parse(event.payload)).toMatchObject({ id: event.id, pendingId: id(1), timestamp: event.createdAt.toISOString() })
    }
  })

  it('create a payment as Prisma would: defaults filled, the row as Prisma reads it; a taken idempotency key is a unique violation', async () => {
    const before = Date.now()
    const fields = { offerId: 'job-20', sellerId: 'seller-1', buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: '1250', assetCode: 'USD', assetScale: 2 }
    const created = await createPaymentRow(service.deps, { id: id(20), ...fields, idempotencyKey: 'key-20', requestFingerprint: 'fp', createdAt: at })
    const stored = await service.db.payment.findUniqueOrThrow({ where: { id: id(20) } })
    expect(created).toEqual(stored)
    expect(stored).toMatchObject({ state: 'AWAITING_APPROVAL', checkAttempts: 0, eventCount: 0, createdAt: at, returnUrl: null, idempotencyKey: 'key-20' })
    expect(stored.updatedAt.getTime()).toBeGreaterThanOrEqual(before)
    const taken = await createPaymentRow(service.deps, { id: id(21), ...fields, idempotencyKey: 'key-20', createdAt: at }).catch((error: unknown) => error)
    expect(isUniqueViolation(taken)).toBe(true)
    expect(isUniqueViolation(new Error('something else'))).toBe(false)
    expect(await service.db.payment.count({ where: { id: id(21) } })).toBe(0)
    expect(() => paymentInsert({ id: id(22), ...fields, createdAt: at, nope: 1 } as never)).toThrow('Payment has no column "nope"')
  })

  it('make a change and its event one statement on PostgreSQL, writing the event the transaction path writes, byte for byte', async () => {
    // An offer id JSON must escape (quotes, a backslash, control characters, characters beyond the BMP), and a quoted debit amount.
    await createPayment(30, { offerId: 'job "30" \\ \n\t\u0001 ü 😀', debitAmount: '1300', debitAssetCode: 'EUR', debitAssetScale: 2 })
    await createPayment(31)
    const transaction = vi.spyOn(service.deps.db.writer, 'transaction')
    const changed: Record<string, Payment[]> = { [id(30)]: [], [id(31)]: [] }
    const change = async (n: number, ...args: Parameters<typeof transitionPayment> extends [unknown, unknown, ...infer Rest] ? Rest : never) =>
      changed[id(n)].push((await transitionPayment(service.deps, id(n), ...args))!)
    try {
      await change(30, ['AWAITING_APPROVAL'], { state: 'FINISHING', interactRef: 'ir' })
      await change(30, ['FINISHING'], { state: 'PROCESSING', outgoingPaymentId: 'https://wallet.example/outgoing/30' })
      await change(31, ['AWAITING_APPROVAL'], { state: 'FINISHING' })
      expect(transaction).toHaveBeenCalledTimes(testProvider === 'postgresql' ? 0 : 3)
      // An end that may call for a wallet clean-up, with failure details: the transaction, on both.
      await change(31, ['FINISHING'], { state: 'FAILED', failureCode: 'FUNDING_FAILED', failureMessage: 'no "funds"' })
      expect(transaction).toHaveBeenCalledTimes(testProvider === 'postgresql' ? 1 : 4)
    } finally {
      transaction.mockRestore()
    }
    for (const n of [30, 31]) {
      const events = await service.db.webhookEvent.findMany({ where: { paymentId: id(n) }, orderBy: { sequence: 'asc' } })
      expect(events.map((event) => event.sequence)).toEqual([1, 2])
      expect(events.map((event) => event.payload)).toEqual(
        events.map((event, i) => JSON.stringify(buildPaymentEventBody(event.id, changed[id(n)][i], event.type, event.createdAt))),
      )
      expect(changed[id(n)].at(-1)).toEqual(await service.db.payment.findUniqueOrThrow({ where: { id: id(n) } }))
    }
  })

  it('write dates that claims and Prisma compare correctly (due now, not due a millisecond later)', async () => {
    await createPayment(2)
    await transitionPayment(service.deps, id(2), ['AWAITING_APPROVAL'], { state: 'FINISHING' })
    await transitionPayment(service.deps, id(2), ['FINISHING'], { state: 'PROCESSING', nextCheckAt: at })
    const due = (when: Date) => service.db.payment.count({ where: { id: id(2), nextCheckAt: { lte: when } } })
    expect(await due(at)).toBe(1)
    expect(await due(new Date(at.getTime() - 1))).toBe(0)
  })

  it('change nothing, and write no event, when the payment is no longer in an expected state or fails a condition', async () => {
    await createPayment(3, { accessToken: 'stored' })
    const before = await service.db.payment.findUniqueOrThrow({ where: { id: id(3) } })
    expect(await transitionPayment(service.deps, id(3), ['FINISHING'], { state: 'FAILED' })).toBeNull()
    expect(await transitionPayment(service.deps, id(3), ['AWAITING_APPROVAL'], { state: 'FAILED' }, { accessToken: null })).toBeNull()
    expect(await updatePayment(service.deps, id(3), ['PROCESSING'], { sentAmount: '1' })).toBeNull()
    expect(await service.db.payment.findUniqueOrThrow({ where: { id: id(3) } })).toEqual(before)
    expect(await service.db.webhookEvent.count({ where: { paymentId: id(3) } })).toBe(0)
    // The same condition met: the change goes through.
    expect(await transitionPayment(service.deps, id(3), ['AWAITING_APPROVAL'], { state: 'FAILED' }, { accessToken: 'stored' })).toMatchObject({ state: 'FAILED' })
  })

  // A committed change is announced to this process's listeners at once, each change, and
  // (PostgreSQL, NOTIFY) to the other processes, which hear the same announcements (the same ones
  // made within NOTIFY_GATHER_MS once: a wake-up, not a count); nothing of a change that lost its
  // compare-and-set.
  it('announce a committed change here and (PostgreSQL) to the other processes, and nothing of a change that did not happen', async () => {
    await createPayment(7)
    const topics = ['webhook_events', 'payment_updates', 'settlement_checks'] as const
    const notMade = new Date(at.getTime() + 1).toISOString()
    const about = (line: string) => line.endsWith(id(7)) || line.endsWith(at.toISOString()) || line.endsWith(notMade)
    const here: string[] = []
    const unsubscribe = topics.map((topic) => service.deps.db.onAnnouncement(topic, (subject) => here.push(`${topic} ${subject}`)))
    const elsewhere: string[] = []
    const otherProcess = testProvider === 'postgresql' ? await connectAsReplica(service.databaseUrl) : undefined
    try {
      if (otherProcess) {
        otherProcess.on('notification', (n) => elsewhere.push(`${n.channel} ${n.payload?.split(' ').slice(1).join(' ')}`))
        for (const topic of topics) await otherProcess.query(`LISTEN ${topic}`)
      }
      expect(await transitionPayment(service.deps, id(7), ['FINISHING'], { state: 'PROCESSING', nextCheckAt: new Date(notMade) })).toBeNull()
      await transitionPayment(service.deps, id(7), ['AWAITING_APPROVAL'], { state: 'FINISHING' })
      await transitionPayment(service.deps, id(7), ['FINISHING'], { state: 'PROCESSING', nextCheckAt: at })
      const expected = [
        `webhook_events ${id(7)}`, `payment_updates ${id(7)}`,
        `webhook_events ${id(7)}`, `payment_updates ${id(7)}`, `settlement_checks ${at.toISOString()}`,
      ]
      expect(here.filter(about)).toEqual(expected)
      if (otherProcess) {
        await waitFor(() => elsewhere.some((line) => line.startsWith('settlement_checks') && about(line)), 3000)
        await sleep(200) // nothing more comes
        expect(new Set(elsewhere.filter(about))).toEqual(new Set(expected))
      }
    } finally {
      unsubscribe.forEach((stop) => stop())
      await otherProcess?.end()
    }
  })

  it('queue the wallet clean-up an unpaid end calls for, in the same transaction', async () => {
    await createPayment(4)
    await transitionPayment(service.deps, id(4), ['AWAITING_APPROVAL'], { state: 'REJECTED', failureCode: 'GRANT_REJECTED' })
    const steps = await service.db.walletCleanup.findMany({ where: { paymentId: id(4) }, orderBy: { step: 'asc' } })
    // The clean-up worker may have made its first (failing: wallet.example does not resolve) attempt already.
    expect(steps.map((step) => [step.step, step.status])).toEqual([
      ['CANCEL_GRANT', 'PENDING'],
      ['CLOSE_INCOMING_PAYMENT', 'PENDING'],
    ])
  })

  // The settlement worker's claim reads each payment's seller in the same statement (a subquery
  // per column in its RETURNING): the check needs no read of its own.
  it('lease a due settlement check with its seller, both as Prisma reads them', async () => {
    await createPayment(8, { state: 'PROCESSING', nextCheckAt: at, outgoingPaymentId: 'https://wallet.example/outgoing/8' })
    // A clock past `at` for this claim only: the service's own worker, before it, leaves the row alone.
    const claimed = await checkSettlementsJob({ ...service.deps, clock: { now: () => new Date(at.getTime() + 1000) } }).claim(100)
    const check = claimed.find((item) => item.payment.id === id(8))
    expect(check?.payment).toEqual(await service.db.payment.findUniqueOrThrow({ where: { id: id(8) } }))
    expect(check?.payment.leaseUntil?.getTime()).toBeGreaterThan(at.getTime())
    const { createdAt, updatedAt, ...seller } = await service.db.seller.findUniqueOrThrow({ where: { id: 'seller-1' } })
    expect(check?.seller).toEqual(seller)
  })

  it('refuse a column the Prisma models do not have (or that only the database sets), and a change from no state, before any SQL', () => {
    expect(() => paymentUpdate(id(1), ['FINISHING'], { nope: 1 } as never, {})).toThrow('Payment has no column "nope"')
    expect(() => paymentUpdate(id(1), ['FINISHING'], {}, { 'id" = id OR 1=1 --': 1 } as never)).toThrow('Payment has no column')
    expect(() => paymentUpdate(id(1), ['FINISHING'], { updatedAt: at } as never, {})).toThrow('Payment has no column "updatedAt"')
    expect(() => paymentUpdate(id(1), [], { state: 'FAILED' }, {})).toThrow('needs the states it may start from')
  })

  it('roll back every statement of a transaction that throws', async () => {
    await createPayment(5)
    await expect(
      service.deps.db.writer.transaction(async (run) => {
        const { sql, params } = paymentUpdate(id(5), ['AWAITING_APPROVAL'], { state: 'FAILED' }, {})
        expect(await run(sql, params)).toHaveLength(1)
        throw new Error('failed half-way')
      }),
    ).rejects.toThrow('failed half-way')
    expect((await service.db.payment.findUniqueOrThrow({ where: { id: id(5) } })).state).toBe('AWAITING_APPROVAL')
  })

  it("keep an open write transaction apart from Prisma's queries and the prepared reads", async () => {
    await createPayment(6)
    let prismaSaw: string | undefined
    await service.deps.db.writer.transaction(async (run) => {
      const { sql, params } = paymentUpdate(id(6), ['AWAITING_APPROVAL'], { state: 'FAILED' }, {})
      await run(sql, params)
      // Prisma, from outside the transaction: it must neither see the uncommitted row nor run inside it.
      void service.db.payment.findUniqueOrThrow({ where: { id: id(6) } }).then((row) => (prismaSaw = row.state))
      const [read] = await service.deps.db.readRows<{ state: string }>('SELECT "state" FROM "Payment" WHERE "id" = $1', [id(6)])
      expect(read.state).toBe('AWAITING_APPROVAL')
      await sleep(100)
      // SQLite (one connection): Prisma waits for the commit. PostgreSQL: it read the committed row on another connection.
      expect(prismaSaw).toBe(testProvider === 'sqlite' ? undefined : 'AWAITING_APPROVAL')
    })
    if (testProvider === 'sqlite') await vi.waitFor(() => expect(prismaSaw).toBe('FAILED'))
    expect((await service.db.payment.findUniqueOrThrow({ where: { id: id(6) } })).state).toBe('FAILED')
  })
})

// SQLite: a commit waits for the disk (src/db/wal-sync.ts): the connection commits without a sync
// (`synchronous = NORMAL`), and the write resolves only once the write-ahead log has been synced
// after it, off the event loop, one sync serving every commit made while the previous one ran.
// Whatever else touches the database (a lease, a delivery mark, a read) resolves only once what it
// saw is on disk, including commits of other processes on the same file.
describe.runIf(testProvider === 'sqlite')('how SQLite commits reach the disk', () => {
  const synced: string[] = []
  let entered = 0
  let holding = false
  const held: (() => void)[] = []
  let fileHandlePrototype: { datasync(): Promise<void> }
  beforeAll(async () => {
    const handle = await fs.promises.open(import.meta.filename, 'r')
    fileHandlePrototype = Object.getPrototypeOf(handle)
    await handle.close()
    const datasync = fileHandlePrototype.datasync
    vi.spyOn(fileHandlePrototype, 'datasync').mockImplementation(async function (this: fs.promises.FileHandle) {
      const file = fs.readlinkSync(`/proc/self/fd/${this.fd}`)
      entered++
      if (holding) await new Promise<void>((resolve) => held.push(resolve))
      await datasync.call(this)
      synced.push(file)
    })
  })
  afterEach(() => releaseAll()) // a failed test leaves nothing held for the next
  afterAll(() => vi.restoreAllMocks())

  /** Holds every sync that starts from now until releaseAll(). */
  const hold = () => void (holding = true)
  const releaseAll = () => {
    holding = false
    for (const release of held.splice(0)) release()
  }
  const settledWithin = async (promise: Promise<unknown>, ms = 50) => {
    let settled = false
    void promise.then(() => (settled = true), () => (settled = true))
    await sleep(ms)
    return settled
  }
  const keyIdOf = (db: Database.Database) => (db.prepare(`SELECT "keyId" FROM "Seller" WHERE "id" = 'seller-1'`).get() as { keyId: string }).keyId
  const setKeyId = (value: string, options?: { durable?: boolean }) =>
    service.deps.db.writer.run('UPDATE "Seller" SET "keyId" = $1 WHERE "id" = $2', [value, 'seller-1'], options)
  const readKeyId = () => service.deps.db.readRows<{ keyId: string }>(`SELECT "keyId" FROM "Seller" WHERE "id" = $1`, ['seller-1'])
  const walOf = (databaseUrl: string) => `${fs.realpathSync(sqlitePath(databaseUrl))}-wal`
  /** Another process's connection to the service's database. */
  const otherProcess = () => {
    const db = new Database(sqlitePath(service.databaseUrl))
    db.pragma('synchronous = NORMAL')
    return db
  }

  it('the connection commits at NORMAL in WAL mode; a durable write, and a read of it, resolve only after the log is synced', async () => {
    expect((await service.deps.db.writer.run<{ journal_mode: string }>('PRAGMA journal_mode', []))[0].journal_mode).toBe('wal')
    expect((await service.deps.db.writer.run<{ synchronous: number }>('PRAGMA synchronous', []))[0].synchronous).toBe(1) // NORMAL
    const other = otherProcess()
    try {
      hold()
      const write = setKeyId('k-held')
      await vi.waitFor(() => expect(keyIdOf(other)).toBe('k-held')) // committed (another process could see it)…
      expect(await settledWithin(write)).toBe(false) // …but not reported done before it is on disk
      const read = readKeyId()
      expect(await settledWithin(read)).toBe(false) // and this service shows it to no one before that either
      const before = synced.length
      releaseAll()
      await write
      expect(await read).toEqual([{ keyId: 'k-held' }])
      expect(synced.length).toBeGreaterThan(before)
      expect(synced.at(-1)).toBe(walOf(service.databaseUrl))
    } finally {
      other.close()
    }
  })

  it('a read never answers before what it saw is on disk, even a commit made while an earlier sync ran', async () => {
    const other = otherProcess()
    onTestFinished(() => void other.close())
    hold()
    const first = setKeyId('k-1')
    await vi.waitFor(() => expect(held).toHaveLength(1)) // the first sync runs (held)
    const read = readKeyId() // asked for while k-1 is not on disk yet
    const second = setKeyId('k-2') // commits at once: its sync waits for the first to end
    await vi.waitFor(() => expect(keyIdOf(other)).toBe('k-2'))
    held.shift()!() // the first sync ends; the next one (k-2) starts, held
    await first
    await vi.waitFor(() => expect(held).toHaveLength(1))
    expect(await settledWithin(read)).toBe(false) // whatever it read, it is not on disk until the next sync ends
    expect(await settledWithin(second)).toBe(false)
    releaseAll()
    expect(await read).toEqual([{ keyId: 'k-1' }]) // it read when asked
    await second
  })

  it("Prisma's writes and transactions wait for the sync too; its reads do not ask for one", async () => {
    hold()
    const update = service.db.seller.update({ where: { id: 'seller-1' }, data: { keyId: 'k-prisma' } })
    const transaction = service.db.$transaction(async (tx) => tx.seller.update({ where: { id: 'seller-1' }, data: { keyId: 'k-tx' } }))
    expect(await settledWithin(update)).toBe(false)
    expect(await settledWithin(transaction)).toBe(false)
    releaseAll()
    await Promise.all([update, transaction])
    const before = entered
    await service.db.seller.findUniqueOrThrow({ where: { id: 'seller-1' } })
    expect(entered).toBe(before)
  })

  it('commits made during a sync share the next one', async () => {
    const other = otherProcess()
    onTestFinished(() => void other.close())
    hold()
    const before = synced.length
    const first = setKeyId('k-0')
    await vi.waitFor(() => expect(held).toHaveLength(1)) // its sync has started and is held
    const more = Array.from({ length: 5 }, (_, i) => setKeyId(`k-${i + 1}`))
    await vi.waitFor(() => expect(keyIdOf(other)).toBe('k-5'))
    releaseAll()
    await Promise.all([first, ...more])
    expect(synced.length - before).toBe(2) // the held one, then one for the five
  })

  it('a lease or a delivery mark does not sync its own commit, but waits for the commits before it', async () => {
    const before = entered
    await setKeyId('k-lease', { durable: false })
    expect(entered).toBe(before)
    hold()
    const durable = setKeyId('k-durable')
    await vi.waitFor(() => expect(held).toHaveLength(1))
    const lease = setKeyId('k-lease-2', { durable: false })
    expect(await settledWithin(lease)).toBe(false)
    releaseAll()
    await Promise.all([durable, lease])
    expect(entered).toBe(before + 1)
  })

  it("a lease or a read that may have seen another process's commit waits for a sync of its own", async () => {
    const other = otherProcess()
    try {
      other.prepare(`UPDATE "Seller" SET "keyId" = 'k-other' WHERE "id" = 'seller-1'`).run() // committed, not synced
      hold()
      const lease = service.deps.db.writer.run<{ keyId: string }>('SELECT "keyId" FROM "Seller"', [], { durable: false })
      await vi.waitFor(() => expect(held).toHaveLength(1))
      expect(await settledWithin(lease)).toBe(false)
      releaseAll()
      expect(await lease).toEqual([{ keyId: 'k-other' }])

      other.prepare(`UPDATE "Seller" SET "keyId" = 'k-other-2' WHERE "id" = 'seller-1'`).run()
      hold()
      const read = readKeyId()
      await vi.waitFor(() => expect(held).toHaveLength(1))
      expect(await settledWithin(read)).toBe(false)
      releaseAll()
      expect(await read).toEqual([{ keyId: 'k-other-2' }])
    } finally {
      other.close()
    }
  })

  it('a service opening a database already in WAL mode (a restart) syncs its commits the same way', async () => {
    const reopened = await openDatabase(service.databaseUrl) // the service put it in WAL mode
    try {
      expect((await reopened.writer.run<{ synchronous: number }>('PRAGMA synchronous', []))[0].synchronous).toBe(1)
      hold()
      const write = reopened.writer.run('UPDATE "Seller" SET "keyId" = $1 WHERE "id" = $2', ['k-reopened', 'seller-1'])
      expect(await settledWithin(write)).toBe(false)
      releaseAll()
      await write
    } finally {
      await reopened.close()
    }
  })

  it('a new database reached through a symbolic link: the log synced is the one SQLite writes, beside the real file', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-link-'))
    const real = path.join(folder, 'real.db')
    const link = path.join(folder, 'link.db')
    fs.symlinkSync(real, link)
    const db = await openDatabase(`file:${link}`)
    try {
      await db.writer.run('SELECT 1', []) // a first statement that writes nothing
      await db.writer.run('CREATE TABLE "T" ("x" INTEGER)', [])
      expect(synced.at(-1)).toBe(`${fs.realpathSync(real)}-wal`)
      expect(fs.existsSync(`${link}-wal`)).toBe(false)
    } finally {
      await db.close()
      fs.rmSync(folder, { recursive: true, force: true })
    }
  })

  it('after a failed sync nothing more is committed: writes fail before they commit, and reads fail', async () => {
    const reopened = await openDatabase(service.databaseUrl)
    const other = otherProcess()
    try {
      const working = vi.mocked(fileHandlePrototype.datasync).getMockImplementation()!
      vi.mocked(fileHandlePrototype.datasync).mockImplementationOnce(async () => {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })
      })
      const update = (value: string) => reopened.writer.run('UPDATE "Seller" SET "keyId" = $1 WHERE "id" = $2', [value, 'seller-1'])
      await expect(update('k-eio')).rejects.toThrow('EIO')
      expect(vi.mocked(fileHandlePrototype.datasync).getMockImplementation()).toBe(working) // the disk works again…
      await expect(update('k-after')).rejects.toThrow('EIO') // …but the process no longer trusts it
      expect(keyIdOf(other)).toBe('k-eio') // and did not commit the later write
      await expect(reopened.readRows('SELECT 1 AS "one"', [])).rejects.toThrow('EIO')
    } finally {
      other.close()
      await reopened.close()
    }
    // The service's own database handle is unaffected.
    await setKeyId('k')
  })
})
