// `npm run dev:api` (the contract's "Run Development Server"), run as a developer runs it: in a
// fresh copy of the project (so that editing its files touches nothing here), with no .env, it
// serves the sandbox like `npm start`; editing a source file restarts it. (tsx watch ignores
// dotfiles, so a change to .env needs a manual restart; the README says so.)
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { findFreePort, makeTempDir } from '../harness.js'

const project = makeTempDir('payments-dev-api-')
for (const entry of ['src', 'prisma', 'package.json', 'prisma.config.ts', 'tsconfig.json']) {
  fs.cpSync(path.resolve(entry), path.join(project, entry), { recursive: true })
}
fs.symlinkSync(path.resolve('node_modules'), path.join(project, 'node_modules'), 'dir')

let stopDevServer = async () => {}
afterAll(async () => {
  await stopDevServer()
  fs.rmSync(project, { recursive: true, force: true })
})

it('serves the sandbox, and restarts when a source file changes', async () => {
  const [port, sandboxPort] = [await findFreePort(), await findFreePort()]
  // detached: npm, tsx watch and the service form one process group, stopped together below.
  const child = spawn('npm', ['run', 'dev:api'], {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), SANDBOX_PORT: String(sandboxPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  stopDevServer = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    process.kill(-child.pid!, 'SIGTERM')
    await exited
  }

  const url = `http://127.0.0.1:${port}`
  const listening = () => output.split('payments service listening').length - 1
  const waitUntil = async (what: string, probe: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 90_000 // restarts load tsx and Prisma again: slow when CI is busy
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`dev:api: ${what} did not happen\n${output}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  await waitUntil('first start', () => listening() === 1)
  const health = await fetch(`${url}/health`)
  expect(health.status).toBe(200)
  expect(await health.json()).toMatchObject({ status: 'ok', service: 'payments', mode: 'SANDBOX' })
  // Sandbox as with `npm start`: its seller key is generated inside the project's ./privates.
  expect(fs.readdirSync(path.join(project, 'privates')).length).toBeGreaterThan(0)
  expect((await fetch(`${url}/sellers`)).status).toBe(200) // development without API_TOKENS, as npm start

  // A source file changes: the running service stops gracefully and a new one serves it.
  fs.appendFileSync(path.join(project, 'src', 'app.ts'), '\nexport const editedByDevApiTest = true\n')
  await waitUntil('restart after a source change', () => listening() === 2)
  expect(output).toContain('"signal":"SIGTERM","msg":"shutting down"')
  expect(output).toContain('payments service stopped')
  expect((await fetch(`${url}/health`)).status).toBe(200)

  await stopDevServer()
  expect(output).not.toContain('payments service failed')
}, 300_000)
