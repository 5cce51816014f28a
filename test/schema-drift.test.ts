// The committed schema.graphql and Prisma migrations must match the code.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { printSchemaSDL } from '../src/graphql/schema.js'

describe('committed artefacts are in step with the code', () => {
  it('schema.graphql is the printed schema (run `npm run schema:print`)', () => {
    expect(fs.readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8')).toBe(printSchemaSDL())
  })

  it('the migrations produce exactly prisma/schema.prisma (run `npx prisma migrate dev`)', () => {
    const cli = createRequire(import.meta.url).resolve('prisma/build/index.js')
    const args = ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema-datamodel', 'prisma/schema.prisma', '--exit-code']
    // --exit-code: 0 = no difference, 2 = the migrations are missing a change.
    const run = () => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: 'pipe' })
    expect(run).not.toThrow()
  })
})
