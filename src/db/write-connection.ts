// The writes the service makes most often (state changes, their webhook events, claims of due
// work), apart from the ORM: prepared statements on the driver, on the connection(s) that write.
// Prisma 6.19 compiles every query, raw ones included (about 1 ms of CPU each here, against
// 0.02-0.1 ms for a prepared statement), and a checkout writes a dozen times. On SQLite the
// statements run on Prisma's own connection, in turn with its queries and transactions (the one
// writer: src/db/sqlite.ts). On PostgreSQL they run on the pool Prisma uses, each transaction on a
// connection of its own, ordered with Prisma's queries only by the database's own locks (as two
// Prisma queries are). Only src/db.ts and its provider modules import this module.

/**
 * Runs one statement and returns its rows (none for a statement without RETURNING). Portable SQL:
 * quoted identifiers, `$1, $2, ...` placeholders; Date parameters are written as Prisma writes them.
 * Rows come back as the driver gives them: text, numbers, null (src/payments/payment-rows.ts makes payment rows Prisma-shaped).
 */
export type RunStatement = <Row = Record<string, unknown>>(sql: string, params: readonly unknown[], options?: StatementOptions) => Promise<Row[]>

export interface StatementOptions {
  /**
   * false: a write whose loss in a power cut or an operating-system crash is harmless: a lease
   * (the workers' claims: lost, the row is simply unclaimed, as after the process dies) or a
   * webhook delivery mark (lost, the event is delivered again with the same webhook-id: delivery is
   * at least once). A crash of the process loses nothing either way: the operating system has the
   * write. On SQLite it resolves without a sync of its own, once every commit before it is on disk
   * (so the rows it returns may be acted upon: src/db/wal-sync.ts); the next durable commit makes
   * it durable with everything before it, in order. PostgreSQL commits every write durably: its
   * commit does not block this process. Default true. Everything that precedes a wallet call or a
   * webhook (a state change, its event, a stored token) stays durable.
   */
  durable?: boolean
}

export interface WriteConnection {
  /** One statement, committed on its own. */
  run: RunStatement
  /**
   * The statements `work` runs through its `run`, as one transaction: committed when `work`
   * resolves, rolled back when it throws. `work` must not touch the database any other way (on
   * SQLite a Prisma query would wait for this transaction to end: forever). `options.durable`:
   * as a statement's (StatementOptions), for the whole transaction.
   */
  transaction<T>(work: (run: RunStatement) => Promise<T>, options?: Pick<StatementOptions, 'durable'>): Promise<T>
}
