// Runs once per test run: applies the real migrations (with the Prisma CLI, as `npm start` and the
// Dockerfile do) to a template database that every test service copies (test/database.ts).
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { migrateDatabase } from '../src/db.js'
import { onPostgresServer, postgresUrl, testProvider } from './database.js'

export default async function setup(project: TestProject) {
  if (testProvider === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payments-template-'))
    const file = path.join(dir, 'template.db')
    await migrateDatabase(`file:${file}`)
    project.provide('templateDatabase', file)
    project.provide('testDatabasePrefix', '')
    return () => fs.rmSync(dir, { recursive: true, force: true })
  }
  const prefix = `payments_test_${Date.now().toString(36)}_${crypto.randomBytes(2).toString('hex')}_`
  const template = `${prefix}template`
  const dropRun = () =>
    onPostgresServer(async (client) => {
      const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
    })
  await onPostgresServer((client) => client.query(`CREATE DATABASE "${template}"`))
  try {
    await migrateDatabase(postgresUrl(template))
  } catch (error) {
    await dropRun()
    throw error
  }
  project.provide('templateDatabase', template)
  project.provide('testDatabasePrefix', prefix)
  return dropRun
}
