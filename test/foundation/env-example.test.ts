// Config keys are spelled the same in .env.example, src/config.ts and the README.
import fs from 'node:fs'
import { expect, it } from 'vitest'

const read = (file: string) => fs.readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')

it('.env.example and the README document every key src/config.ts reads, and no other', () => {
  const schema = read('src/config.ts')
  const body = schema.slice(schema.indexOf('const EnvSchema'), schema.indexOf('.superRefine'))
  const keys = [...body.matchAll(/^\s{4}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]).sort()
  const example = [...read('.env.example').matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1])
  expect(keys.length).toBeGreaterThan(20)
  expect([...new Set(example)].sort()).toEqual(keys)
  const readme = read('README.md')
  for (const key of keys) expect(readme, key).toContain(key)
})
