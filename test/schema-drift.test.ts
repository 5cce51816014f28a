// The committed schema.graphql and both providers' Prisma migrations must match the code.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { printSchemaSDL } from '../src/graphql/schema.js'
import { pendingMigrationSql, providers } from '../scripts/prisma-providers.js'

describe('committed artefacts are in step with the code', () => {
  it('schema.graphql is the printed schema (run `npm run schema:print`)', () => {
    expect(fs.readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8')).toBe(printSchemaSDL())
  })

  // `prisma migrate diff` from the committed history to prisma/models.prisma, per provider.
  it.each(providers.map((provider) => [provider.name, provider] as const))(
    'the %s migrations produce exactly prisma/models.prisma (run `npm run db:migration -- <name>`)',
    (_name, provider) => {
      expect(pendingMigrationSql(provider)).toBe('')
    },
    60_000,
  )
})
