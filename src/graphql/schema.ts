// The GraphQL schema: imports every type file, then prints the schema.
import { lexicographicSortSchema, printSchema } from 'graphql'
import { builder } from './builder.js'
import './node.js'
import '../sellers/schema.js'
import '../payments/schema.js'
import '../webhooks/schema.js'

export const schema = builder.toSchema()

export function printSchemaSDL(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n'
}
