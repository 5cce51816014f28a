// A start that fails part way (the bootstrap seller cannot be registered, the port is taken) leaves
// nothing running: what it had opened (the sandbox wallet, the seller-change listener, the
// database) is closed again before startService rejects.
import fs from 'node:fs'
import net from 'node:net'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { parseConfig } from '../../src/config.js'
import type { Database } from '../../src/db.js'
import { startService } from '../../src/service.js'
import { createLogger } from '../../src/logger.js'
import { findFreePort, makeTempDir, testEnv } from '../harness.js'

/** Every database startService opened, with how many of its announcement listeners still listen and whether it was closed. */
const opened: { listening: number; closed: boolean }[] = []
vi.mock('../../src/db.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/db.js')>()
  return {
    ...actual,
    openDatabase: async (...args: Parameters<typeof actual.openDatabase>) => {
      const db = await actual.openDatabase(...args)
      const entry = { listening: 0, closed: false }
      opened.push(entry)
      const { close, onAnnouncement } = db
      return {
        ...db,
        onAnnouncement(...listenArgs: Parameters<Database['onAnnouncement']>) {
          const stop = onAnnouncement.apply(db, listenArgs)
          entry.listening += 1
          return () => {
            entry.listening -= 1
            stop()
          }
        },
        async close() {
          entry.closed = true
          await close.apply(db)
        },
      }
    },
  }
})

const dirs: string[] = []
const configIn = async (env: Record<string, string>) => {
  const dir = makeTempDir()
  dirs.push(dir)
  return parseConfig(await testEnv(dir, env))
}
const quiet = () => createLogger('silent')

const canListenOn = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })

let taken: net.Server
let takenPort: number
beforeEach(async () => {
  opened.length = 0
  taken = net.createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  takenPort = (taken.address() as net.AddressInfo).port
})
afterEach(() => new Promise((resolve) => taken.close(resolve)))
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

describe('a start that fails part way', () => {
  it('a bootstrap seller that cannot be registered: rejects, with the seller listener stopped and the database closed', async () => {
    const cfg = await configIn({ SELLER_WALLET_ADDRESS_URL: 'https://wallet.example/seller', SELLER_KEY_ID: 'key-1', SELLER_PRIVATE_KEY_PATH: 'no-such-key.pem' })
    await expect(startService(cfg, { logger: quiet() })).rejects.toThrow()
    expect(opened).toHaveLength(1)
    expect(opened[0]).toMatchObject({ listening: 0, closed: true })
  })

  it('its port taken: rejects with EADDRINUSE, and the embedded sandbox wallet it had started no longer holds its port', async () => {
    const sandboxPort = await findFreePort()
    const cfg = await configIn({ PORT: String(takenPort), SANDBOX: 'auto', SANDBOX_PORT: String(sandboxPort) })
    expect(cfg.sandbox).toBeDefined()
    await expect(startService(cfg, { logger: quiet() })).rejects.toMatchObject({ code: 'EADDRINUSE' })
    expect(opened[0]).toMatchObject({ listening: 0, closed: true })
    expect(await canListenOn(sandboxPort)).toBe(true)
  })
})
