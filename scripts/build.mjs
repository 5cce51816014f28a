// Compiles src/ to dist/, file for file (no bundling: dist/ keeps src/'s layout, so paths relative
// to a module stay right), with esbuild: the same TypeScript transform tsx and vitest apply when
// they run src/ in development and in the tests. Types are checked apart, by `npm run typecheck`
// (part of `npm test`, and of the Docker build).
//
//   node scripts/build.mjs      npm run build (the Dockerfile): always compiles
//   scripts/start.mjs           npm start: compiles only when the sources changed
//
// "Changed" is decided by a manifest of what went into dist/: a hash of every source file's path
// and content, of this script and of esbuild's version, kept in dist/.sources. Contents, not
// modification times: an archive or a checkout may give an edited file the time of the old one.
// A build is written beside dist/ and swapped in whole, so a process loading dist/ meanwhile never
// finds it half written or missing for more than a rename.
import crypto from 'node:crypto'
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

/** A hash of everything a build depends on: each source's path and content, this script, esbuild's version. */
function sourceManifest(src, files) {
  const hash = crypto.createHash('sha256')
  hash.update(fs.readFileSync(import.meta.filename))
  hash.update(JSON.parse(fs.readFileSync(path.join(projectRoot, 'node_modules/esbuild/package.json'), 'utf8')).version)
  for (const file of files) hash.update(`\0${file}\0`).update(fs.readFileSync(path.join(src, file)))
  return hash.digest('hex')
}

/**
 * Compiles <root>/src into <root>/dist, unless `onlyIfChanged` and dist/ was built from what src/
 * holds now. Answers whether it compiled. Without src/main.ts (the Docker image ships dist/ and no
 * sources) there is nothing to compile: dist/ is what runs.
 */
export async function buildDist({ root = projectRoot, onlyIfChanged = false } = {}) {
  const src = path.join(root, 'src')
  const dist = path.join(root, 'dist')
  const manifestFile = path.join(dist, '.sources')
  if (onlyIfChanged && !fs.existsSync(path.join(src, 'main.ts')) && fs.existsSync(path.join(dist, 'main.js'))) return false
  const files = listSources(src)
  const manifest = sourceManifest(src, files)
  if (onlyIfChanged && fs.existsSync(manifestFile) && fs.readFileSync(manifestFile, 'utf8') === manifest) return false

  const esbuild = await import('esbuild')
  const building = `${dist}.building-${process.pid}`
  const previous = `${dist}.previous-${process.pid}`
  try {
    fs.rmSync(building, { recursive: true, force: true })
    await esbuild.build({
      entryPoints: files.map((file) => path.join(src, file)),
      outdir: building,
      outbase: src,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    })
    // The manifest goes in last: a build that failed half way is never taken for a finished one.
    fs.writeFileSync(path.join(building, '.sources'), manifest)
    if (fs.existsSync(dist)) fs.renameSync(dist, previous)
    fs.renameSync(building, dist)
    return true
  } finally {
    fs.rmSync(building, { recursive: true, force: true })
    fs.rmSync(previous, { recursive: true, force: true })
    await esbuild.stop() // its service process is not needed while the service runs
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildDist()
