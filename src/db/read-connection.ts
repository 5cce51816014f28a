// The connection the hottest reads use, apart from the ORM: prepared statements on the driver
// (Prisma 6.19 compiles every query: about 0.6-1.2 ms against 0.02 ms for a prepared statement).
// It sees only committed rows: on SQLite a second better-sqlite3 connection (WAL: readers never
// wait for the writer, and never see its open transaction); on PostgreSQL the pool Prisma uses.
// Only src/db.ts and its provider modules import this module.

export interface ReadConnection {
  /**
   * The rows of one SELECT, prepared once per text and reused. Portable SQL: quoted identifiers,
   * `$1, $2, ...` placeholders. Values come back as the driver gives them (see src/payments/queries.ts
   * for how rows become Prisma's shapes).
   */
  all<Row>(sql: string, params: readonly unknown[]): Promise<Row[]>
  close(): Promise<void>
}
