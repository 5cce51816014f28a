import { createRequire } from 'node:module'
import { configDefaults, defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)
// `npm test` runs the suite twice: on SQLite, then with TEST_DATABASE=postgresql (test/database.ts).
// The second pass leaves out the files that never touch the service's database.
const databaseFree = [
  'test/unit/**',
  'test/sandbox/**',
  'test/schema-drift.test.ts',
  'test/foundation/config.test.ts',
  'test/foundation/env-example.test.ts',
  'test/foundation/compose.test.ts',
  'test/foundation/dev-api.test.ts',
]

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for Pothos and
    // yoga; Vite would hand our own files the ESM one, and graphql refuses types from "another
    // realm". Point Vite at the same file Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(process.env.TEST_DATABASE === 'postgresql' ? databaseFree : [])],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files start servers and child processes; 2 cores run two files at a time well.
    maxWorkers: 2,
  },
})
