// A fault-injection switch for the crash tests (TEST_CRASH_AT, accepted only with NODE_ENV=test):
// the process kills itself with SIGKILL at the named step, as a power cut would.
import type { Config } from './config.js'

export type CrashPoint = NonNullable<Config['testCrashAt']>

export function crashPoint(config: Config, name: CrashPoint): void {
  if (config.testCrashAt === name) process.kill(process.pid, 'SIGKILL')
}
