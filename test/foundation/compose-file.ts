// compose.yaml and the Dockerfile as data, for the tests that check them without a Docker engine
// (compose.test.ts, production-start.test.ts).
import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'
import { parse } from 'yaml'

export const read = (file: string) => fs.readFileSync(path.resolve(file), 'utf8')
export const compose = parse(read('compose.yaml'), { merge: true })
export const services = compose.services as Record<string, any>
export const payments = services.payments

/** The runtime stage of the Dockerfile: its ENV, EXPOSE, USER, WORKDIR, VOLUME, CMD and HEALTHCHECK. */
function readDockerfile() {
  const text = read('Dockerfile').replace(/\\\n\s*/g, ' ')
  const runtime = text.slice(text.lastIndexOf('\nFROM '))
  const instruction = (name: string) => [...runtime.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((m) => m[1].trim())
  const env = Object.fromEntries(instruction('ENV').flatMap((line) => line.split(/\s+/).map((pair) => pair.split('=') as [string, string])))
  return {
    env,
    expose: instruction('EXPOSE'),
    user: instruction('USER').at(-1),
    workdir: instruction('WORKDIR').at(-1),
    volumes: instruction('VOLUME').flatMap((v) => JSON.parse(v) as string[]),
    chownRuns: instruction('RUN').filter((r) => r.includes('chown node:node')),
    cmd: JSON.parse(instruction('CMD').at(-1)!) as string[],
    healthcheck: instruction('HEALTHCHECK').at(-1)!,
  }
}
export const dockerfile = readDockerfile()

/** Compose interpolation, for the only forms compose.yaml uses: ${NAME} and ${NAME:-default}. */
export function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{([^}]*)\}/g, (_, expr: string) => {
    const m = /^([A-Z_][A-Z0-9_]*)(?::-(.*))?$/.exec(expr)
    if (!m) throw new Error(`compose.test.ts understands \${NAME} and \${NAME:-default} only, not \${${expr}}`)
    return vars[m[1]] || (m[2] ?? '')
  })
}

/** The route the healthcheck and the proxy should probe: /ready once the service has one. */
export const probePath = '/ready'
export const healthcheckArgv = (service: any) => {
  const [kind, ...argv] = service.healthcheck.test as string[]
  expect(kind).toBe('CMD')
  return argv
}
