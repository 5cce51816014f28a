// The sandbox on its own (`npm run sandbox`): the admin URL it prints answers an index of its
// routes, its seller key goes into KEYS_DIR, and a port in use gets one clear line.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { findFreePort, makeTempDir } from '../harness.js'

const children: ReturnType<typeof spawn>[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGTERM')
})

function runSandbox(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/sandbox/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { child, exited, output: () => ({ stdout, stderr }) }
}

describe('npm run sandbox', () => {
  it('prints an admin URL that answers the index of its routes, and keeps its key in KEYS_DIR', async () => {
    const keysDir = path.join(makeTempDir('sandbox-main-'), 'keys')
    const run = runSandbox({ SANDBOX_PORT: String(await findFreePort()), KEYS_DIR: keysDir, LOG_LEVEL: 'info' })
    const ready = await expect
      .poll(() => run.output().stdout.split('\n').find((line) => line.includes('sandbox wallet ready')), { timeout: 20_000 })
      .toBeTruthy()
      .then(() => JSON.parse(run.output().stdout.split('\n').find((line) => line.includes('sandbox wallet ready'))!))
    expect(ready.privateKeyPath).toBe(path.join(keysDir, 'sandbox-seller.pem'))
    expect(fs.existsSync(ready.privateKeyPath)).toBe(true)

    for (const url of [ready.admin, `${ready.admin}/`]) {
      const res = await fetch(url)
      expect(res.status, url).toBe(200)
      const index = await res.json()
      expect(index.wallets).toMatchObject({ seller: ready.seller, buyer: ready.buyer })
      expect(Object.keys(index.wallets).sort()).toEqual(['buyer', 'buyer-eur', 'seller'])
      expect(index.routes.map((r: { method: string; path: string }) => `${r.method} ${r.path}`)).toContain('POST /interactions/:id/approve')
    }
    // The index lists routes that exist.
    const balance = await fetch(`${ready.admin}/wallets/buyer/balance`)
    expect(await balance.json()).toMatchObject({ balance: '1000000', assetCode: 'USD' })
  }, 40_000)

  it('says in one line that its port is in use', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, 'localhost', resolve))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      const run = runSandbox({ SANDBOX_PORT: String(port), KEYS_DIR: path.join(makeTempDir('sandbox-main-'), 'keys') })
      expect(await run.exited).toBe(1)
      const { stderr } = run.output()
      expect(stderr.trim()).toBe(`Port ${port} is in use (another sandbox or npm start?): stop it, or set SANDBOX_PORT to a free port.`)
    } finally {
      blocker.close()
    }
  }, 40_000)
})
