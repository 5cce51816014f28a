// The Pothos schema builder: plugin setup and the shared types every domain uses (DateTime, JSON,
// Money and the error interface). Domain types live beside their services (src/*/schema.ts).
import SchemaBuilder from '@pothos/core'
import ErrorsPlugin from '@pothos/plugin-errors'
import PrismaPlugin from '@pothos/plugin-prisma'
import RelayPlugin from '@pothos/plugin-relay'
import type { Deps } from '../deps.js'
import { AppError, errorStatus, type ErrorCode } from '../errors.js'
import { getDatamodel } from '../generated/pothos-types.js'
import type PrismaTypes from '../generated/pothos-types.js'

export interface Money {
  value: string
  assetCode: string
  assetScale: number
}

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes
  Scalars: {
    DateTime: { Input: Date; Output: Date }
    JSON: { Input: unknown; Output: unknown }
  }
  DefaultFieldNullability: false
  /** Every resolver's context: the service it runs in (src/deps.ts; yoga.ts puts it there). */
  Context: { deps: Deps }
}>({
  // The errors plugin must come before the prisma plugin (../shared/STACK.md).
  plugins: [ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  // The Prisma client of the service that answers the request.
  prisma: { client: (ctx) => ctx.deps.db.prisma, dmmf: getDatamodel(), exposeDescriptions: true, filterConnectionTotalCount: true },
  relay: { cursorType: 'String', clientMutationId: 'omit', nodeQueryOptions: false, nodesQueryOptions: false }, // node.ts defines them
  errors: { defaultTypes: [AppError], directResult: true },
})

builder.queryType({})
builder.mutationType({})
builder.subscriptionType({})

builder.scalarType('DateTime', {
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value))
    if (Number.isNaN(date.getTime())) throw new AppError('VALIDATION_FAILED', 'Invalid DateTime')
    return date
  },
})

builder.scalarType('JSON', { serialize: (value) => value, parseValue: (value) => value })

export const MoneyRef = builder.objectRef<Money>('Money').implement({
  description: 'An amount in minor units of an asset: value "100" with assetScale 2 is 1.00.',
  fields: (t) => ({
    value: t.exposeString('value', { description: 'Integer in minor units, as a string.' }),
    assetCode: t.exposeString('assetCode'),
    assetScale: t.exposeInt('assetScale'),
  }),
})

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  values: Object.keys(errorStatus) as ErrorCode[],
})

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
  }),
})

builder.objectType(AppError, {
  name: 'AppError',
  description: 'An expected failure: the same code and message the REST API answers.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    details: t.field({ type: 'JSON', nullable: true, resolve: (error) => error.details ?? null }),
  }),
})
