// The test run's database, one provider per run: TEST_DATABASE=sqlite (the default) or postgresql
// (on the server at DEV_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres).
// global-setup.ts migrates one template per run with the real Prisma CLI; every test service then
// gets its own database made from it: a copy of the template file on SQLite, a
// `CREATE DATABASE ... TEMPLATE` on PostgreSQL. Teardown drops this run's PostgreSQL databases.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { inject } from 'vitest'
import { databaseProviderOf } from '../src/db.js'
import { LISTENER_APPLICATION_NAME, REPLICAS_CHANNEL } from '../src/db/postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** SQLite: the migrated template file. PostgreSQL: the migrated template database's name. */
    templateDatabase: string
    /** The prefix of every PostgreSQL database this run creates. */
    testDatabasePrefix: string
  }
}

export const testProvider = process.env.TEST_DATABASE === 'postgresql' ? 'postgresql' : 'sqlite'
export const devPostgresUrl = process.env.DEV_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

/** The URL of database `name` on the development PostgreSQL server. */
export function postgresUrl(name: string): string {
  const url = new URL(devPostgresUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** Runs statements on the server's maintenance database (CREATE/DROP DATABASE cannot run in a transaction). */
export async function onPostgresServer<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: devPostgresUrl })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** A fresh database for one test service: migrated (from the run's template), or empty. */
export async function createTestDatabase(dir: string, options: { empty?: boolean } = {}): Promise<string> {
  if (testProvider === 'sqlite') {
    const file = path.join(dir, 'payments.db')
    if (!options.empty) fs.copyFileSync(inject('templateDatabase'), file)
    return `file:${file}`
  }
  const name = `${inject('testDatabasePrefix')}${crypto.randomBytes(4).toString('hex')}`
  const template = options.empty ? 'template0' : inject('templateDatabase')
  await onPostgresServer((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`))
  return postgresUrl(name)
}

/** Runs one query on a service's database while its processes keep using it. Placeholders: $1, $2... */
export async function queryDatabase<T>(databaseUrl: string, sql: string, ...params: unknown[]): Promise<T[]> {
  if (databaseProviderOf(databaseUrl) === 'postgresql') {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      return (await client.query(sql, params)).rows as T[]
    } finally {
      await client.end()
    }
  }
  const sqlite = new Database(databaseUrl.slice('file:'.length), { readonly: true, fileMustExist: true })
  try {
    return sqlite.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as T[]
  } finally {
    sqlite.close()
  }
}

/**
 * A PostgreSQL connection the service's replicas take for another replica's listening connection
 * (src/db/postgres.ts): named as theirs, and it says hello, so that they send it their
 * notifications (a replica alone on its database sends none). LISTEN on it for what to hear.
 */
export async function connectAsReplica(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: LISTENER_APPLICATION_NAME })
  await client.connect()
  await client.query('SELECT pg_notify($1, $2)', [REPLICAS_CHANNEL, 'a-test-replica'])
  // The replicas hear the hello on their own listening connections, a moment later (a slow
  // machine's moment: a replica that has not heard it yet sends this one nothing).
  await new Promise((resolve) => setTimeout(resolve, 500))
  return client
}
