// The service as a child process (`node --import tsx src/main.ts`), for tests that need what an
// in-process service cannot give: two processes on one database, or a process that really dies.
// Every child is killed after the file's tests; a failed test prints the output of each child.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { afterAll, afterEach, type TestContext } from 'vitest'
import { createSandboxIdentity } from '../../src/sandbox/identities.js'
import type { Sandbox } from '../../src/sandbox/server.js'
import { API_TOKEN, findFreePort, testEnv } from '../harness.js'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const running = new Set<ChildService>()
// Children spawned outside a test (in beforeAll), dead or alive: their output explains any failure.
const shared: ChildService[] = []

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ChildService {
  name: string
  url: string
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<ChildExit>
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** fetch with the API token (pass `token: null` for none). */
  request(pathname: string, init?: RequestInit & { json?: unknown; token?: string | null }): Promise<Response>
  /** SIGTERM (a clean shutdown), SIGKILL if it takes longer than 5 s. */
  stop(): Promise<ChildExit>
  /** SIGKILL now, as a power cut would. */
  kill(): Promise<ChildExit>
}

/**
 * Spawns the service with exactly `env` (plus PATH and HOME, nothing else of this process's
 * environment) on a free port, and waits until /health answers. Pass the test's context as
 * `test` to print the child's output if that test fails (without it: if any test of the file fails).
 */
export async function spawnService(
  name: string,
  env: Record<string, string>,
  opts: { healthTimeoutMs?: number; test?: Pick<TestContext, 'onTestFailed'> } = {},
): Promise<ChildService> {
  const port = await findFreePort()
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  let exit: ChildExit | undefined
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal }
      running.delete(service)
      resolve(exit)
    })
  })

  const service: ChildService = {
    name,
    url,
    exited,
    output: () => output,
    request(pathname, init = {}) {
      const { json, token = API_TOKEN, ...rest } = init
      const headers = new Headers(rest.headers)
      if (token) headers.set('authorization', `Bearer ${token}`)
      if (json !== undefined) headers.set('content-type', 'application/json')
      return fetch(url + pathname, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body })
    },
    async stop() {
      if (exit) return exit
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      const result = await exited
      clearTimeout(timer)
      return result
    },
    kill() {
      if (!exit) child.kill('SIGKILL')
      return exited
    },
  }
  running.add(service)
  if (opts.test) opts.test.onTestFailed(() => printOutput(service))
  else shared.push(service)

  const deadline = Date.now() + (opts.healthTimeoutMs ?? 20_000)
  for (;;) {
    if (exit) throw new Error(`${name} exited (${JSON.stringify(exit)}) before it was healthy:\n${output}`)
    const healthy = await fetch(`${url}/health`).then((res) => res.ok, () => false)
    if (healthy) return service
    if (Date.now() > deadline) {
      await service.stop()
      throw new Error(`${name} was not healthy within ${opts.healthTimeoutMs ?? 20_000} ms:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// An interrupted test run must not leave services listening.
process.once('exit', () => {
  for (const service of running) void service.kill()
})

function printOutput(service: ChildService) {
  process.stderr.write(`\n----- output of ${service.name} -----\n${service.output()}\n`)
}

/** Registers the hooks: print the output of children spawned in beforeAll when a test fails, kill every child after the file. */
export function useChildServices(): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') shared.forEach(printOutput)
  })
  afterAll(async () => {
    await Promise.all([...running].map((service) => service.kill()))
  })
}

export const SELLER_ID = 'seller-1'

/**
 * The environment of a child service talking to the test's sandbox wallet, on a fresh copy of the
 * template database. Pass the result to several children to share the database.
 */
export async function childServiceEnv(dir: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    ...(await testEnv(dir, extra.DATABASE_URL ? { DATABASE_URL: extra.DATABASE_URL } : {})),
    LOG_LEVEL: 'info',
    OPEN_PAYMENTS_USE_HTTP: 'true',
    OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS: 'true',
    VERIFY_SELLER_WALLET: 'true',
    // Nothing listens there: deliveries fail fast and the events stay in the outbox to inspect.
    DJANGO_BASE_URL: 'http://127.0.0.1:9',
    ...extra,
  }
}

/** Gives the sandbox's seller wallet a key in the service's KEYS_DIR and registers the seller through `service`. */
export async function registerSeller(service: ChildService, sandbox: Sandbox, keysDir: string): Promise<void> {
  const identity = createSandboxIdentity({ dir: keysDir, walletName: 'seller' })
  sandbox.addClientKey('seller', identity.jwk)
  const res = await service.request('/sellers', {
    method: 'POST',
    json: { id: SELLER_ID, walletAddressUrl: sandbox.walletAddressUrl('seller'), keyId: identity.keyId, privateKeyPath: identity.privateKeyPath },
  })
  if (res.status !== 201) throw new Error(`seller registration failed ${res.status}: ${await res.text()}`)
}

/** Starts a checkout through `service`, approves it in the sandbox, and returns the finish URL pointed at `service`. */
export async function startAndApprove(service: ChildService, sandbox: Sandbox, offerId: string, amount = '100') {
  const res = await service.request(`/offers/${offerId}/quotes/start`, {
    method: 'POST',
    json: { sellerId: SELLER_ID, buyerWalletAddressUrl: sandbox.walletAddressUrl('buyer'), amount },
  })
  if (res.status !== 200) throw new Error(`checkout start failed ${res.status}: ${await res.text()}`)
  const { pendingId, redirectUrl } = (await res.json()) as { pendingId: string; redirectUrl: string }
  const finish = new URL(await sandbox.approve(redirectUrl))
  return { pendingId, finishPath: `${finish.pathname}${finish.search}` }
}
