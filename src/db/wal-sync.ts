// Group commit for SQLite (src/db/sqlite.ts): a durable commit waits for the disk, without blocking
// the process while it waits, and commits made during one wait share the next.
//
// SQLite's own way (`synchronous = FULL`) syncs the write-ahead log inside COMMIT. better-sqlite3 is
// synchronous, so every commit stopped the whole process (requests, wallet calls, webhooks) for the
// length of an fdatasync: about 0.4 ms each here, five per checkout, the largest single cost of a
// checkout on SQLite (bench/checkout.ts with BENCH_SQL_LOG=1). The connection now commits with
// `synchronous = NORMAL` (the log is written, not synced) and the commit's caller then waits for
// `sync()`: an fdatasync of the same log file on libuv's thread pool. Linux syncs a file's data
// whatever descriptor asks, so when it returns the commit is exactly as durable as under FULL: the
// log holds it, on disk, and SQLite's recovery replays it after a power cut. The log keeps its
// inode while any connection to the database is open (checkpoints, restarts and truncation rewrite
// it in place; SQLite deletes it when the last connection closes), so one descriptor, opened when
// the database is, serves the process's lifetime.
//
// One sync at a time. A commit that arrives while one runs waits for the next, which starts when
// the running one ends and covers every commit made meanwhile: under load a sync serves many.
//
// Under FULL, a commit becomes visible only once it is synced; under NORMAL, at once, to every
// connection and process. What is read must therefore be on disk before anything acts on it: see
// `syncSeen` and its callers in sqlite.ts.
//
// A failed sync (EIO, a full or vanished disk) fails its waiters, every later wait, and every later
// write before it commits (`assertWritable`): Linux may drop the unsynced pages it could not write
// and report success next time, so after one failure nothing the process commits can be called
// durable again. The service reports the error on every write and read until it is restarted (as
// PostgreSQL stops on a failed fsync); /health fails with it.
import fs from 'node:fs'
import path from 'node:path'

export interface WalSync {
  /** Opens the log; the database must be in WAL mode and have been read once (that creates the log). */
  open(): Promise<void>
  /** Resolves once every commit made on the database (by any connection) before this call is on disk. */
  sync(): Promise<void>
  /**
   * Resolves once the syncs already asked for are done, without asking for one: every durable
   * commit of this process asks as it ends. Rejects once a sync has failed.
   */
  synced(): Promise<void>
  /**
   * The wait for what a connection has seen, given its `PRAGMA data_version` now: unchanged since
   * the last look (no other connection committed since), the syncs already asked for; changed (a
   * commit by another connection or process, which may not be on disk yet), a sync of its own.
   */
  syncSeen(seen: { version: number | undefined }, version: number): Promise<void>
  /** Throws when a sync has failed: no commit may be made after one. */
  assertWritable(): void
  close(): Promise<void>
}

/** The syncer of the write-ahead log of the SQLite database at `databasePath` (in WAL mode, opened by this process). */
export function walSync(databasePath: string): WalSync {
  // SQLite keeps the log beside the database file a symbolic link points to.
  const walPath = `${fs.realpathSync(databasePath)}-wal`
  let log: fs.promises.FileHandle | undefined
  let running: Promise<void> | undefined
  let queued: Promise<void> | undefined
  let failure: unknown
  let closed = false

  function start(): Promise<void> {
    const syncing = (async () => {
      if (failure !== undefined) throw failure
      if (!log) throw new Error(closed ? 'the database is closed' : 'the write-ahead log is not open')
      try {
        await log.datasync()
      } catch (error) {
        failure ??= error
        throw error
      }
    })().finally(() => {
      if (running === syncing) running = undefined
    })
    running = syncing
    return syncing
  }

  const synced = () => (failure !== undefined ? Promise.reject(failure) : (queued ?? running ?? Promise.resolve()))
  const sync = () => {
    if (queued) return queued
    if (!running) return start()
    queued = running
      .catch(() => {})
      .then(() => {
        queued = undefined
        return start()
      })
    return queued
  }

  return {
    // The directory entry is synced once: SQLite syncs it only at its first checkpoint under
    // NORMAL, and a log whose name a power cut took away is a lost log.
    async open() {
      const handle = await fs.promises.open(walPath, 'r+')
      try {
        const folder = await fs.promises.open(path.dirname(walPath), 'r')
        try {
          await folder.sync()
        } finally {
          await folder.close()
        }
      } catch (error) {
        await handle.close()
        throw error
      }
      log = handle
    },
    sync,
    synced,
    syncSeen(seen, version) {
      if (seen.version === version) return synced()
      seen.version = version // the sync asked for now starts after this look: it covers what was seen
      return sync()
    },
    assertWritable() {
      if (failure !== undefined) throw failure
    },
    async close() {
      closed = true
      await Promise.allSettled([queued ?? running])
      const handle = log
      log = undefined
      await handle?.close()
    },
  }
}
