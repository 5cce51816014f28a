// `npm start` (scripts/start.mjs) compiles src/ to dist/ when a source changed since the last
// build (scripts/build.mjs: a hash of the contents, not modification times), then runs dist/main.js; the Docker image runs dist/main.js with the same
// node flags. The compiling is tried on a project of its own in a temporary folder (the project's
// own dist/ belongs to production-start.test.ts, which runs `npm start` itself).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
// @ts-expect-error: a plain JavaScript module without types (it runs before anything is compiled)
import { buildDist } from '../../scripts/build.mjs'
import { makeTempDir } from '../harness.js'
import { dockerfile, read } from './compose-file.js'

const root = makeTempDir('payments-build-')
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
  fs.writeFileSync(path.join(root, file), text)
}
const compiled = (file: string) => fs.readFileSync(path.join(root, 'dist', file), 'utf8')
const build = (onlyIfChanged: boolean): Promise<boolean> => buildDist({ root, onlyIfChanged })

it('compiles every TypeScript file of src/ to dist/, keeping the layout and the imports', async () => {
  write('src/main.ts', "import { twice } from './lib/twice.js'\nconst n: number = twice(21)\nconsole.log(n)\n")
  write('src/lib/twice.ts', 'export function twice(n: number): number {\n  return n * 2\n}\n')
  write('src/lib/types.d.ts', 'export type Never = never\n')
  expect(await build(true)).toBe(true) // nothing built yet

  expect(compiled('main.js')).toContain("from \"./lib/twice.js\"")
  expect(compiled('main.js')).not.toContain(': number')
  expect(compiled('lib/twice.js')).toContain('function twice(n)')
  expect(fs.existsSync(path.join(root, 'dist/lib/types.d.js'))).toBe(false)
  expect(execFileSync(process.execPath, [path.join(root, 'dist/main.js')], { encoding: 'utf8' })).toBe('42\n')
})

it('compiles again only when a source file was added, removed or edited', async () => {
  const builtAt = fs.statSync(path.join(root, 'dist/main.js')).mtimeMs
  expect(await build(true)).toBe(false)
  expect(fs.statSync(path.join(root, 'dist/main.js')).mtimeMs).toBe(builtAt)

  // Touched without a change: nothing to compile.
  fs.utimesSync(path.join(root, 'src/lib/twice.ts'), new Date(), new Date(Date.now() + 5_000))
  expect(await build(true)).toBe(false)
  // Edited to the same size, with the old modification time back (as an archive or a checkout may
  // leave it): the content tells.
  const { mtime } = fs.statSync(path.join(root, 'src/lib/twice.ts'))
  write('src/lib/twice.ts', 'export function twice(n: number): number {\n  return n + n\n}\n')
  fs.utimesSync(path.join(root, 'src/lib/twice.ts'), mtime, mtime)
  expect(await build(true)).toBe(true)
  expect(compiled('lib/twice.js')).toContain('n + n')
  expect(await build(true)).toBe(false)

  write('src/extra.ts', 'export const extra = 1\n')
  expect(await build(true)).toBe(true)
  expect(compiled('extra.js')).toContain('extra = 1')

  fs.rmSync(path.join(root, 'src/extra.ts'))
  expect(await build(true)).toBe(true)
  expect(fs.existsSync(path.join(root, 'dist/extra.js'))).toBe(false) // nothing left over from an earlier build

  // `npm run build` always compiles.
  expect(await build(false)).toBe(true)
  // Nothing of a build is left beside dist/.
  expect(fs.readdirSync(root).sort()).toEqual(['dist', 'src'])
})

it('without sources (the Docker image ships dist/ alone) a start runs dist/ as it is', async () => {
  const image = makeTempDir('payments-image-')
  try {
    fs.cpSync(path.join(root, 'dist'), path.join(image, 'dist'), { recursive: true })
    fs.mkdirSync(path.join(image, 'src/db'), { recursive: true })
    fs.writeFileSync(path.join(image, 'src/db/provider.ts'), 'export {}\n') // the one source the image keeps (prisma.config.ts)
    const before = fs.readdirSync(path.join(image, 'dist')).sort()
    expect(await buildDist({ root: image, onlyIfChanged: true })).toBe(false)
    expect(fs.readdirSync(path.join(image, 'dist')).sort()).toEqual(before)
  } finally {
    fs.rmSync(image, { recursive: true, force: true })
  }
})

it('a build that fails leaves the last good dist/ in place, and the next start tries again', async () => {
  const good = compiled('main.js')
  write('src/broken.ts', 'export const = ;\n')
  await expect(build(true)).rejects.toThrow(/broken\.ts/)
  await expect(build(true)).rejects.toThrow(/broken\.ts/) // tried again, not taken for built
  expect(compiled('main.js')).toBe(good)
  expect(fs.readdirSync(root).sort()).toEqual(['dist', 'src'])
  fs.rmSync(path.join(root, 'src/broken.ts'))
  expect(await build(true)).toBe(false) // dist/ is the build of these sources
})

it('the Docker image runs dist/main.js with the node flags npm start gives', () => {
  const [command, ...args] = JSON.parse(read('package.json')).scripts.start.split(/\s+/)
  expect(command).toBe('node')
  expect(args.at(-1)).toBe('scripts/start.mjs')
  expect(dockerfile.cmd).toEqual(['node', ...args.slice(0, -1), 'dist/main.js'])
})
