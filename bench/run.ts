// `npm run bench`: every benchmark in bench/ (each top-level .ts file but this one), one after
// another, each in a fresh Node process so that none inherits another's warm caches or leftover
// timers. Helpers live in bench/support/. Exits non-zero if any benchmark failed.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const dir = import.meta.dirname
const benchmarks = fs
  .readdirSync(dir)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && file !== 'run.ts')
  .sort()

const failed: string[] = []
for (const file of benchmarks) {
  console.log(`\n=== bench/${file} ===`)
  const began = performance.now()
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, file)], { stdio: 'inherit' })
    child.on('exit', resolve)
  })
  console.log(`=== bench/${file}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((performance.now() - began) / 1000).toFixed(0)} s ===`)
  if (code !== 0) failed.push(file)
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`)
  process.exit(1)
}
