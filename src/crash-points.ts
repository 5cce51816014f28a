// A fault-injection switch for the crash tests (TEST_CRASH_AT, accepted only with NODE_ENV=test):
// the process kills itself with SIGKILL at the named step, as a power cut would.
import { config } from './config.js'

export type CrashPoint = NonNullable<typeof config.testCrashAt>

export function crashPoint(name: CrashPoint): void {
  if (config.testCrashAt === name) process.kill(process.pid, 'SIGKILL')
}
