// The committed schema.graphql and Prisma migrations must match the code.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { printSchemaSDL } from '../src/graphql/schema.js'
import { makeTempDir } from './harness.js'

describe('committed artefacts are in step with the code', () => {
  it('schema.graphql is the printed schema (run `npm run schema:print`)', () => {
    expect(fs.readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8')).toBe(printSchemaSDL())
  })

  it('the migrations produce exactly prisma/schema.prisma (run `npx prisma migrate dev`)', () => {
    const cli = createRequire(import.meta.url).resolve('prisma/build/index.js')
    const args = ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma', '--exit-code']
    // --exit-code: 0 = no difference, 2 = the migrations are missing a change.
    // The CLI's adapter opens DATABASE_URL even for a diff: give it a throwaway file.
    const env = { ...process.env, DATABASE_URL: `file:${path.join(makeTempDir('drift-'), 'drift.db')}` }
    const run = () => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: 'pipe', env })
    expect(run).not.toThrow()
  })
})
