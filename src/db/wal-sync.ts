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
// log holds it, on disk, and SQLite's recovery replays it after a power cut.
//
// One sync at a time. A commit that arrives while one runs waits for the next, which starts when
// the running one ends and covers every commit made meanwhile: under load a sync serves many.
//
// A failed sync (EIO, a full or vanished disk) fails its waiters and every later one: Linux may
// drop the unsynced pages it could not write and report success next time, so after one failure
// nothing the process commits can be called durable again. The service reports the error on every
// write until it is restarted (as PostgreSQL stops on a failed fsync).
import fs from 'node:fs/promises'
import path from 'node:path'

export interface WalSync {
  /** Resolves once every commit made on the database before this call is on disk. */
  sync(): Promise<void>
  /**
   * Resolves once the syncs already asked for are done, without asking for one: every durable
   * commit asks as it ends, so what a reader or a later turn sees is then on disk. Rejects once a
   * sync has failed.
   */
  synced(): Promise<void>
  close(): Promise<void>
}

/** The syncer of the write-ahead log of the SQLite database at `databasePath` (in WAL mode, opened by this process). */
export function walSync(databasePath: string): WalSync {
  const walPath = `${path.resolve(databasePath)}-wal`
  let log: Promise<fs.FileHandle> | undefined
  let running: Promise<void> | undefined
  let queued: Promise<void> | undefined
  let failure: unknown

  // The log exists from the first commit on, and SQLite removes it only when the last connection
  // to the database closes (this process keeps its own open). Its directory entry is synced once:
  // SQLite syncs it only at its first checkpoint under NORMAL, and a log whose name a power cut
  // took away is a lost log.
  async function openLog(): Promise<fs.FileHandle> {
    const handle = await fs.open(walPath, 'r')
    const folder = await fs.open(path.dirname(walPath), 'r')
    try {
      await folder.sync()
    } finally {
      await folder.close()
    }
    return handle
  }

  function start(): Promise<void> {
    const syncing = (async () => {
      if (failure !== undefined) throw failure
      try {
        log ??= openLog()
        await (await log).datasync()
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

  return {
    sync() {
      if (queued) return queued
      if (!running) return start()
      queued = running
        .catch(() => {})
        .then(() => {
          queued = undefined
          return start()
        })
      return queued
    },
    synced: () => (failure !== undefined ? Promise.reject(failure) : (queued ?? running ?? Promise.resolve())),
    async close() {
      await Promise.allSettled([queued ?? running])
      const handle = await log?.catch(() => undefined)
      log = undefined
      await handle?.close()
    },
  }
}
