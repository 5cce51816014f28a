// What a running process (by pid) has used so far, read from /proc (Linux): memory and CPU.
import fs from 'node:fs'

/** VmRSS and VmHWM (peak RSS) of a process, in bytes. */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

const CLOCK_TICKS = 100 // sysconf(_SC_CLK_TCK) on Linux

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSecondsOf(pid: number): number {
  // Fields after the command name (in parentheses, which may hold spaces): utime is the 14th field of the line, stime the 15th.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}
