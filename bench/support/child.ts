// Runs a TypeScript helper in its own Node process (through tsx) and waits for the one JSON line
// it prints on stdout when it is ready. Benchmarks use it to keep the server under test and the
// load generator on separate cores.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface ChildServer<T> {
  ready: T
  process: ChildProcess
  stop(): Promise<void>
}

const READY_TIMEOUT_MS = 30_000

export async function startChild<T>(file: string, env: Record<string, string> = {}): Promise<ChildServer<T>> {
  // BENCH_CPU_PROF=<dir>: the child writes a V8 CPU profile there when it exits (open it in
  // Chrome DevTools or VS Code) to see where a server's time goes.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const ready = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
    child.once('exit', (code) => reject(new Error(`${file} exited with code ${code} before it was ready`)))
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(line) as T)
      } catch {
        reject(new Error(`${file} printed "${line}" instead of its ready line`))
      }
    })
  })
  let info: T
  try {
    info = await ready
  } catch (error) {
    child.kill('SIGTERM')
    throw error
  }
  return {
    ready: info,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
