// Prints the GraphQL schema from the code into schema.graphql (`npm run schema:print`).
// test/schema-drift.test.ts fails when the committed file is stale.
import fs from 'node:fs'
import { printSchemaSDL } from '../src/graphql/schema.js'

fs.writeFileSync(new URL('../schema.graphql', import.meta.url), printSchemaSDL())
console.log('wrote schema.graphql')
