import type { MiddlewareHandler } from 'hono'
import type { HttpBindings } from '@hono/node-server'
import type { Fault, SandboxContext } from './context.js'
import { sendError } from './errors.js'

/**
 * Fault injection for tests. A fault matches a request by method (any when absent) and path: a
 * string matches that exact path, or every path starting with it when it ends in `*`; a RegExp is
 * tested against the path. The first matching fault applies; `times` counts it down.
 */
export function createFaultMiddleware(ctx: SandboxContext): MiddlewareHandler {
  return async (c, next) => {
    const fault = takeFault(ctx.state.faults, c.req.method, c.req.path)
    if (!fault) return next()
    if (fault.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs))
    if (fault.drop) {
      ;(c.env as HttpBindings).incoming.socket.destroy()
      await waitForClose(ctx)
      return c.body(null, 500)
    }
    if (fault.hang) {
      await waitForClose(ctx)
      return c.body(null, 503)
    }
    if (fault.status) return sendError(c, fault.status as 500, 'internal_server_error', 'injected fault')
    return next()
  }
}

function matchesPath(pattern: Fault['path'], path: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(path)
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern
}

function takeFault(faults: Fault[], method: string, path: string): Fault | undefined {
  const index = faults.findIndex(
    (f) => (!f.method || f.method.toUpperCase() === method) && matchesPath(f.path, path),
  )
  if (index === -1) return undefined
  const fault = faults[index]
  if (fault.times !== undefined) {
    fault.times -= 1
    if (fault.times <= 0) faults.splice(index, 1)
  }
  return fault
}

// Hung and dropped requests are parked until the sandbox closes, so nothing leaks past close().
function waitForClose(ctx: SandboxContext): Promise<void> {
  return new Promise((resolve) => ctx.state.releaseHung.push(resolve))
}

export function validateFault(fault: Fault): Fault {
  if (fault.status !== undefined && (fault.status < 500 || fault.status > 599)) {
    throw new Error('fault status must be a 5xx')
  }
  return { ...fault }
}
