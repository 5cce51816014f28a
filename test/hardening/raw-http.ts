// HTTP/1.1 over a raw TCP socket, for requests that fetch and other clients would normalise
// (fragments in the request line, oversized headers) and for watching what happens to a
// keep-alive connection after a response.
import net from 'node:net'
import { expect } from 'vitest'
import type { TestService } from '../harness.js'

export interface RawResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string>
  body: string
}

export class RawConnection {
  private buffer = Buffer.alloc(0)
  private wake: () => void = () => {}
  /** True once the server ended or closed the connection. */
  closed = false
  /** The socket error, if any (ECONNRESET, EPIPE, ...). */
  error?: Error

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.wake()
    })
    socket.on('end', () => this.markClosed())
    socket.on('close', () => this.markClosed())
    socket.on('error', (error) => {
      this.error = error
      this.markClosed()
    })
  }

  private markClosed() {
    this.closed = true
    this.wake()
  }

  static open(baseUrl: string): Promise<RawConnection> {
    const { hostname, port } = new URL(baseUrl)
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port) }, () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  /** Writes bytes; resolves once they are handed to the kernel (rejects if the socket is gone). */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())))
  }

  /** Waits for one complete response (Content-Length, chunked, or delimited by close). */
  async readResponse(timeoutMs = 5000, { toHead = false } = {}): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const parsed = this.tryParse(toHead)
      if (parsed) return parsed
      if (this.closed) throw new Error(`connection closed before a complete response (${this.error?.message ?? 'end'}): ${this.buffer.toString('latin1').slice(0, 200)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no complete response after ${timeoutMs} ms: ${this.buffer.toString('latin1').slice(0, 200)}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** Resolves true if the server closes the connection within `timeoutMs`, false otherwise. */
  async waitForClose(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    return this.closed
  }

  close() {
    this.socket.destroy()
  }

  private tryParse(toHead: boolean): RawResponse | undefined {
    const end = this.buffer.indexOf('\r\n\r\n')
    if (end < 0) return undefined
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1])
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const rest = this.buffer.subarray(end + 4)
    let body: Buffer
    let consumed: number
    if (toHead || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0)
      consumed = 0
    } else if (headers['transfer-encoding']?.includes('chunked')) {
      const chunks: Buffer[] = []
      let at = 0
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', at)
        if (lineEnd < 0) return undefined
        const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16)
        if (size === 0) {
          const trailerEnd = rest.indexOf('\r\n', lineEnd + 2)
          if (trailerEnd < 0) return undefined
          consumed = trailerEnd + 2
          break
        }
        if (rest.length < lineEnd + 2 + size + 2) return undefined
        chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size))
        at = lineEnd + 2 + size + 2
      }
      body = Buffer.concat(chunks)
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      if (rest.length < length) return undefined
      body = rest.subarray(0, length)
      consumed = length
    } else {
      if (!this.closed) return undefined
      body = rest
      consumed = rest.length
    }
    this.buffer = this.buffer.subarray(end + 4 + consumed)
    return { status, headers, body: body.toString('utf8') }
  }
}

/** Sends `head` (request line and headers, CRLF-separated, without the blank line) plus `body` on a new connection and reads one response. */
export async function sendRaw(baseUrl: string, head: string, body = ''): Promise<RawResponse> {
  const connection = await RawConnection.open(baseUrl)
  try {
    await connection.write(`${head}\r\n\r\n${body}`)
    return await connection.readResponse(5000, { toHead: head.startsWith('HEAD ') })
  } finally {
    connection.close()
  }
}

/**
 * Sends raw bytes on a fresh keep-alive connection; answers the raw response with its Date header
 * blanked (to compare two servers' answers byte for byte).
 */
export async function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url)
  const socket = net.connect({ host: hostname, port: Number(port) })
  let received = Buffer.alloc(0)
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk])
        const end = received.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = received.subarray(0, end).toString('latin1')
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? NaN)
        if (received.length >= end + 4 + length) resolve(received.toString('utf8').replace(/\r\nDate: [^\r]+/, '\r\nDate: -'))
      })
      socket.on('error', reject)
      socket.on('close', () => resolve(received.toString('utf8').replace(/\r\nDate: [^\r]+/, '\r\nDate: -')))
      socket.write(request)
    })
  } finally {
    socket.destroy()
  }
}

/**
 * Sends `request` with each X-Request-Id header of `idHeaders` (none of them sane) to the direct
 * server and to Hono: both must make up a UUID and answer the same bytes otherwise.
 */
export async function expectRequestIdsMadeUpAlike(directUrl: string, honoUrl: string, request: (host: string, idHeader: string) => string, idHeaders: string[]) {
  const uuid = /\r\nx-request-id: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\r\n/
  for (const id of idHeaders) {
    const viaDirect = await rawExchange(directUrl, request(new URL(directUrl).host, id))
    const viaHono = await rawExchange(honoUrl, request(new URL(honoUrl).host, id))
    expect(viaDirect).toMatch(uuid)
    expect(viaDirect.replace(uuid, '')).toBe(viaHono.replace(uuid, ''))
  }
}

/**
 * Runs `exchange` (one request with X-Request-Id `reqId` to the direct server, then to Hono;
 * resolves whether the direct path served it) and expects both to have written the same log line
 * and counted the same request metric (`method`, `route`, 200) on `service`.
 */
export async function expectSameLogLineAndMetric(
  service: TestService,
  { reqId, method, route, path }: { reqId: string; method: string; route: string; path: string },
  exchange: () => Promise<boolean>,
) {
  const count = async () => {
    const text = await (await service.request('/metrics')).text()
    const line = `http_request_duration_seconds_count{method="${method}",route="${route}",status="200"} `
    const at = text.indexOf(`\n${line}`)
    return at < 0 ? 0 : Number.parseInt(text.slice(at + line.length + 1), 10)
  }
  const before = await count()
  expect(await exchange()).toBe(true)
  expect(await count()).toBe(before + 2)
  const lines = service.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request' && line.reqId === reqId)
  const [viaDirect, viaHono] = lines.map(({ ms, time, ...line }) => (expect(ms).toBeTypeOf('number'), line))
  expect(viaDirect).toEqual(viaHono)
  expect(viaDirect).toMatchObject({ level: 30, reqId, method, path, status: 200 })
}

/**
 * Sends the request (made for a Host) to the direct server and to Hono; expects the same raw
 * answer (the Host aside, and what `normalize` blanks); answers it, and whether the direct path
 * served it itself.
 */
export async function sendToBoth(
  direct: { url: string; served: () => number },
  honoUrl: string,
  request: (host: string) => string,
  normalize: (raw: string) => string = (raw) => raw,
): Promise<{ raw: string; served: boolean }> {
  const before = direct.served()
  const viaDirect = await rawExchange(direct.url, request(new URL(direct.url).host))
  const served = direct.served() === before + 1
  const viaHono = await rawExchange(honoUrl, request(new URL(honoUrl).host))
  expect(normalize(viaDirect.replace(new URL(direct.url).host, 'HOST'))).toBe(normalize(viaHono.replace(new URL(honoUrl).host, 'HOST')))
  return { raw: viaDirect, served }
}
