// Runs once per test run: applies the real migrations (with the Prisma CLI, as `npm start` and the
// Dockerfile do) to a template SQLite file that every test service copies.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { migrateDatabase } from '../src/db.js'

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string
  }
}

export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payments-template-'))
  const file = path.join(dir, 'template.db')
  await migrateDatabase(`file:${file}`)
  project.provide('templateDatabase', file)
  return () => fs.rmSync(dir, { recursive: true, force: true })
}
