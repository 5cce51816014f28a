// The HTTP client every Open Payments call of the service goes through: the object the SDK calls
// `httpClient` (its requests.js calls get, post and delete on it, reads `status` and `json()` of
// the answer, and reads ky's HTTPError when a call fails), made on undici's `request` over the
// guarded connections of src/open-payments/network-guard.ts.
//
// Why not the SDK's own client: it is a ky instance over fetch, and per call it builds WHATWG
// Request and Response objects, clones the request twice and the response once (for debug lines
// this service silences, and to read the body it signs), and streams every body through web
// streams; that machinery was the largest block of the service's CPU per checkout. Here a call is
// one undici request with a string body and a string answer.
//
// What stays exactly as the SDK and ky do it (test/unit/wallet-http.test.ts checks each):
//  - headers: Accept and Content-Type application/json, the SDK's Authorization (GNAP token), and
//    fetch's User-Agent `node` (firewalls in front of wallets may refuse a request without one);
//  - signing: a POST, and any request with an Authorization header, is signed with the client's
//    key by @interledger/http-signature-utils' createHeaders, as the SDK's signRequest does
//    (Content-Digest, Content-Length and Content-Type for a body; Signature, Signature-Input);
//  - answers: a 2xx is the answer; any other status (a redirect is never followed) throws ky's
//    HTTPError, whose response the SDK reads for the wallet's error code;
//  - the timeout: requestTimeoutMs per attempt, then ky's TimeoutError (ky stops the clock at the
//    answer's headers; here the body must arrive within it too);
//  - retries, as ky's defaults: GET and DELETE only, at most 2 more attempts, after 0.3 s then
//    0.6 s, on 408, 429, 500, 502, 503 and 504 answers and on network errors (not on timeouts);
//    Retry-After (seconds or a date) on 413, 429 and 503 sets the wait instead (a 413 without it
//    is not retried), here at most requestTimeoutMs (ky has no bound: a wallet could hold a
//    checkout for an hour; ky also reads RateLimit-Reset and X-RateLimit-* headers, and waits
//    for ever on a Retry-After it cannot read, where this waits the usual backoff);
//  - a network error reaches the SDK as fetch's `TypeError('fetch failed')` with the cause.
// And one limit fetch did not have: an answer larger than MAX_WALLET_ANSWER_BYTES
// (src/open-payments/network-guard.ts) is a network error, not a buffer a buyer's wallet fills.
import { STATUS_CODES } from 'node:http'
import type { KeyObject } from 'node:crypto'
import { HTTPError, TimeoutError } from 'ky'
import type { Dispatcher } from 'undici'

/** What the SDK's createHttpClient is given (src/open-payments/network-guard.ts passes it on). */
export interface SdkHttpClientArgs {
  requestTimeoutMs: number
  requestSigningArgs?: { privateKey: KeyObject; keyId: string } | { authenticatedRequestInterceptor: unknown }
}

/** One HTTP exchange over the guarded connections: undici's `request` with the guard's dispatcher. */
export type SendRequest = (
  url: string,
  options: { method: Dispatcher.HttpMethod; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<Dispatcher.ResponseData>

/** The answer the SDK reads: its status, and its body as JSON. */
export interface WalletAnswer {
  status: number
  url: string
  json(): Promise<unknown>
  text(): Promise<string>
}

interface CallOptions {
  headers?: Record<string, string>
  json?: unknown
}

export interface WalletHttpClient {
  get(url: string, options?: CallOptions): Promise<WalletAnswer>
  post(url: string, options?: CallOptions): Promise<WalletAnswer>
  delete(url: string, options?: CallOptions): Promise<WalletAnswer>
}

const RETRY_LIMIT = 2
const RETRY_METHODS = new Set(['GET', 'DELETE'])
const RETRY_STATUSES = new Set([408, 413, 429, 500, 502, 503, 504])
const RETRY_AFTER_STATUSES = new Set([413, 429, 503])
const retryDelayMs = (attempt: number) => 0.3 * 2 ** (attempt - 1) * 1000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The signing library loads with the first signed call, not at start-up (see src/open-payments/sdk.ts). */
let signatures: Promise<typeof import('@interledger/http-signature-utils')> | undefined
const loadSignatures = () => (signatures ??= import('@interledger/http-signature-utils'))

/** The wait a wallet asks for in Retry-After (seconds, a date, or a timestamp as ky reads it), or undefined. */
function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined
  let after = Number(value) * 1000
  if (Number.isNaN(after)) after = Date.parse(value) - now
  else if (after >= Date.parse('2024-01-01')) after -= now // a large number is a timestamp
  return Number.isNaN(after) ? undefined : Math.max(after, 0)
}

const headerValue = (headers: Dispatcher.ResponseData['headers'], name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

export function createWalletHttpClient(args: SdkHttpClientArgs, send: SendRequest): WalletHttpClient {
  if (args.requestSigningArgs && !('privateKey' in args.requestSigningArgs)) throw new Error('wallet-http signs with a private key only (the SDK was given a request interceptor)')
  const signing = args.requestSigningArgs
  const timeoutMs = args.requestTimeoutMs

  /** The headers of one request, signed as the SDK's signRequest signs them. */
  async function headersOf(method: string, url: string, given: Record<string, string>, body: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json', 'user-agent': 'node' }
    for (const [name, value] of Object.entries(given)) headers[name.toLowerCase()] = value
    if (!signing?.privateKey || !signing.keyId || (method !== 'POST' && headers.authorization === undefined)) return headers
    const { createHeaders } = await loadSignatures()
    const signed = await createHeaders({ request: { method, url, headers: { ...headers }, body }, privateKey: signing.privateKey, keyId: signing.keyId })
    if (body !== undefined) {
      headers['content-digest'] = signed['Content-Digest']!
      headers['content-length'] = signed['Content-Length']!
      headers['content-type'] = signed['Content-Type']!
    }
    headers.signature = signed.Signature
    headers['signature-input'] = signed['Signature-Input']
    return headers
  }

  /** One attempt: the answer, or ky's HTTPError / TimeoutError, or fetch's network error. */
  async function attempt(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<WalletAnswer> {
    const described = { method, url } // what ky's errors say of the request: no headers, so no token
    const timeout = AbortSignal.timeout(timeoutMs)
    let response: Dispatcher.ResponseData
    let text: string
    try {
      response = await send(url, { method: method as Dispatcher.HttpMethod, headers, body, signal: timeout })
      text = await response.body.text() // within the same time limit: a wallet cannot drip its answer forever
    } catch (error) {
      if (timeout.aborted) throw new TimeoutError(described as Request)
      throw new TypeError('fetch failed', { cause: error })
    }
    const answer: WalletAnswer = { status: response.statusCode, url, json: async () => JSON.parse(text), text: async () => text }
    if (response.statusCode >= 200 && response.statusCode < 300) return answer
    const failed = Object.assign(answer, {
      statusText: STATUS_CODES[response.statusCode] ?? '',
      headers: { get: (name: string) => headerValue(response.headers, name.toLowerCase()) ?? null },
    })
    throw new HTTPError(failed as unknown as Response, described as Request, {} as never)
  }

  async function call(method: string, rawUrl: string, options: CallOptions = {}): Promise<WalletAnswer> {
    const url = new URL(rawUrl).href
    const body = options.json === undefined ? undefined : JSON.stringify(options.json)
    for (let retries = 0; ; ) {
      try {
        // Signed again for every attempt, as ky runs the SDK's signing hook before each one.
        return await attempt(method, url, await headersOf(method, url, options.headers ?? {}, body), body)
      } catch (error) {
        retries++
        if (retries > RETRY_LIMIT || !RETRY_METHODS.has(method) || error instanceof TimeoutError) throw error
        let wait = retryDelayMs(retries)
        if (error instanceof HTTPError) {
          const { status } = error.response
          if (!RETRY_STATUSES.has(status)) throw error
          const asked = RETRY_AFTER_STATUSES.has(status) ? retryAfterMs(error.response.headers.get('retry-after') ?? undefined, Date.now()) : undefined
          if (asked !== undefined) wait = Math.min(asked, timeoutMs)
          else if (status === 413) throw error
        }
        await sleep(wait)
      }
    }
  }

  return {
    get: (url, options) => call('GET', url, options),
    post: (url, options) => call('POST', url, options),
    delete: (url, options) => call('DELETE', url, options),
  }
}
