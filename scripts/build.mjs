// Compiles src/ to dist/, file for file (no bundling: dist/ keeps src/'s layout, so paths relative
// to a module stay right), with esbuild: the same TypeScript transform tsx and vitest apply when
// they run src/ in development and in the tests. Types are checked apart, by `npm run typecheck`
// (part of `npm test`).
//
//   node scripts/build.mjs      npm run build (the Dockerfile): always compiles
//   scripts/start.mjs           npm start: compiles only when src/ changed since the last build
//
// "Changed" is decided by a list of every source file with its size and modification time, kept
// in dist/.sources.json: a file added, removed, edited or touched rebuilds the whole of dist/.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const projectRoot = path.resolve(import.meta.dirname, '..')

function listSources(src) {
  return fs
    .readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .sort()
}

function describe(src, files) {
  return JSON.stringify(
    files.map((file) => {
      const stat = fs.statSync(path.join(src, file))
      return [file, stat.size, stat.mtimeMs]
    }),
  )
}

/**
 * Compiles <root>/src into a fresh <root>/dist, unless `onlyIfChanged` and dist/ was built from
 * src/ as it is now. Answers whether it compiled.
 */
export async function buildDist({ root = projectRoot, onlyIfChanged = false } = {}) {
  const src = path.join(root, 'src')
  const dist = path.join(root, 'dist')
  const sourcesFile = path.join(dist, '.sources.json')
  const files = listSources(src)
  const sources = describe(src, files)
  if (onlyIfChanged && fs.existsSync(sourcesFile) && fs.readFileSync(sourcesFile, 'utf8') === sources) return false

  const esbuild = await import('esbuild')
  try {
    // A file removed from src/ must not survive in dist/ from an earlier build.
    fs.rmSync(dist, { recursive: true, force: true })
    await esbuild.build({
      entryPoints: files.map((file) => path.join(src, file)),
      outdir: dist,
      outbase: src,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    })
    // Written last: a build that failed half way leaves no record, so the next start builds again.
    fs.writeFileSync(sourcesFile, sources)
    return true
  } finally {
    await esbuild.stop() // its service process is not needed while the service runs
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildDist()
