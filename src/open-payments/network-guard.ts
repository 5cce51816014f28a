// The one place that decides where wallet calls may connect (server-side request forgery).
//
// Wallet URLs are chosen by outsiders (a buyer's wallet address, and the auth and resource servers
// its wallet names), so every connection the Open Payments SDK opens is checked when it is opened:
// the host name is resolved once, every address it resolves to must be public unicast (ipaddr.js
// classifies: loopback, private, link-local, CGNAT, IPv4-mapped/-compatible, NAT64, 6to4, Teredo,
// multicast, reserved… are refused), and the socket connects to exactly the addresses checked,
// so DNS rebinding between a check and the call cannot happen. Redirects are never followed: a
// 3xx reaches the caller as a wallet answer. OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS (refused in
// production) turns the address check off for local wallets such as the sandbox: it is a policy of
// each client (createGuardedClient), taken from the configuration its service's wallets were
// created with (wallets.ts), so two services in one process each keep their own.
//
// How it reaches the SDK: @interledger/open-payments 7.4.0 sends every request with the HTTP client
// built by `createHttpClient` in dist/client/requests.js (a ky instance), which takes no fetch or
// dispatcher option. That function is wrapped once so that each client the gateway creates
// (createGuardedClient) gets the service's HTTP client instead (src/open-payments/wallet-http.ts),
// sending through the guarded dispatcher of its policy; creation fails if an SDK upgrade moves
// that seam.
import { AsyncLocalStorage } from 'node:async_hooks'
import dns, { type LookupAddress } from 'node:dns'
import { createRequire } from 'node:module'
import net from 'node:net'
import ipaddr from 'ipaddr.js'
import type { Dispatcher, buildConnector } from 'undici'
import { createWalletHttpClient, type SdkHttpClientArgs, type SendRequest } from './wallet-http.js'

/** The only IPv6 block IANA allocates for global unicast; anything outside it is special (e.g. ::/96, IPv4-compatible). */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3')

/** True for a public unicast address; every special-purpose block (IANA registries, per ipaddr.js) is false. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  // process() turns IPv4-mapped IPv6 into the IPv4 address it carries.
  const parsed = ipaddr.process(address)
  if (parsed.range() !== 'unicast') return false
  return parsed.kind() === 'ipv4' || parsed.match(IPV6_GLOBAL_UNICAST)
}

export class ForbiddenAddressError extends Error {
  constructor(readonly host: string) {
    super(`${host} is a loopback, link-local, private or otherwise non-public address`)
    this.name = 'ForbiddenAddressError'
  }
}

/** Where a client may connect: OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS of the service that created it. */
export interface GuardPolicy {
  allowPrivateHosts: boolean
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * net.connect's `lookup`: resolves once and, when `checkAddresses`, refuses the host if any
 * address is not public.
 */
function guardedLookup(checkAddresses: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, [])
      if (checkAddresses && addresses.some((a) => !isPublicAddress(a.address))) return callback(new ForbiddenAddressError(hostname), [])
      if (options.all) return callback(null, addresses)
      callback(null, addresses[0].address, addresses[0].family)
    })
  }
}

/**
 * The dispatcher of every wallet call: IP literals are checked in its connector (net.connect
 * looks up names only, through guardedLookup). Two at most per process, one checking addresses and
 * one not: they depend on nothing else. undici is loaded on the first wallet call, not at start-up.
 */
const walletAgents = new Map<boolean, Promise<Dispatcher>>()
/**
 * The largest answer a wallet call reads (a larger one fails as a network error): a buyer picks
 * their wallet, so a hostile one could otherwise make the service hold any amount of memory. Open
 * Payments answers are a few kilobytes; a page of outgoing payments (the finish recovery lists
 * them) stays far below this.
 */
export const MAX_WALLET_ANSWER_BYTES = 1024 * 1024
let undici: ReturnType<typeof importUndici> | undefined
const importUndici = () => import('undici')
const loadUndici = () => (undici ??= importUndici())
function getWalletAgent(checkAddresses: boolean): Promise<Dispatcher> {
  let agent = walletAgents.get(checkAddresses)
  if (agent) return agent
  agent = loadUndici().then(({ Agent, buildConnector }) => {
    const connectChecked = buildConnector({ lookup: guardedLookup(checkAddresses) } as buildConnector.BuildOptions)
    const connect: buildConnector.connector = (options, callback) => {
      if (checkAddresses && net.isIP(options.hostname) && !isPublicAddress(options.hostname)) {
        callback(new ForbiddenAddressError(options.hostname), null)
        return
      }
      connectChecked(options, callback)
    }
    return new Agent({ connect, maxResponseSize: MAX_WALLET_ANSWER_BYTES })
  })
  walletAgents.set(checkAddresses, agent)
  return agent
}

/** Why the last connection of a wallet call failed, when that is something a person can act on. */
export type ConnectionProblem = { kind: 'forbiddenAddress'; host: string } | { kind: 'hostNotFound'; host: string }

const problems = new AsyncLocalStorage<{ problem?: ConnectionProblem }>()

function connectionProblemOf(error: unknown): ConnectionProblem | undefined {
  for (let cause = error as { cause?: unknown; code?: string; hostname?: string } | undefined, depth = 0; cause && depth < 5; cause = cause.cause as typeof cause, depth++) {
    if (cause instanceof ForbiddenAddressError) return { kind: 'forbiddenAddress', host: cause.host }
    if (cause.code === 'ENOTFOUND' && cause.hostname) return { kind: 'hostNotFound', host: cause.hostname }
  }
  return undefined
}

/** One wallet request under `policy` (undici's request, through the guarded agent; redirects are never followed). */
export function guardedSend(policy: GuardPolicy): SendRequest {
  const checkAddresses = policy.allowPrivateHosts !== true
  return async (url, options) => {
    try {
      const [{ request }, dispatcher] = await Promise.all([loadUndici(), getWalletAgent(checkAddresses)])
      return await request(url, { ...options, dispatcher })
    } catch (error) {
      const note = problems.getStore()
      if (note) note.problem = connectionProblemOf(error)
      throw error
    }
  }
}

/**
 * Runs one wallet call and reports the connection problem behind its failure, if any (the SDK
 * wraps network errors into its own error without their cause).
 */
export async function withConnectionDiagnosis<T>(call: () => Promise<T>): Promise<{ value: T } | { error: unknown; problem?: ConnectionProblem }> {
  const note: { problem?: ConnectionProblem } = {}
  return problems.run(note, async () => {
    try {
      return { value: await call() }
    } catch (error) {
      return { error, problem: note.problem }
    }
  })
}

// --- the SDK seam -------------------------------------------------------------------------------
interface SdkRequestsModule {
  createHttpClient: ((args: SdkHttpClientArgs) => Promise<unknown>) & { [ORIGINAL]?: (args: SdkHttpClientArgs) => Promise<unknown> }
}
/**
 * Set while a gateway client is being created, with the request function of its policy: only those
 * clients get the service's HTTP client (tests use the SDK directly too, with its own).
 */
const creatingGuardedClient = new AsyncLocalStorage<{ guarded: boolean; send: SendRequest }>()
// The SDK's original function is kept on the wrapper: a module evaluated again, as test files do,
// replaces the wrapper instead of wrapping it.
const ORIGINAL = Symbol.for('payments-service.sdk-create-http-client')

/**
 * Wraps the SDK's `createHttpClient` (once per process; src/open-payments/sdk.ts calls this when it
 * loads the SDK) so that a client created inside createGuardedClient gets the service's HTTP client.
 */
export function installHttpClientSeam(): void {
  const sdkRequests = createRequire(import.meta.url)('@interledger/open-payments/dist/client/requests.js') as SdkRequestsModule
  const createHttpClient = sdkRequests.createHttpClient[ORIGINAL] ?? sdkRequests.createHttpClient
  sdkRequests.createHttpClient = Object.assign(
    async (args: SdkHttpClientArgs) => {
      const creating = creatingGuardedClient.getStore()
      if (!creating) return createHttpClient(args)
      creating.guarded = true
      return createWalletHttpClient(args, creating.send)
    },
    { [ORIGINAL]: createHttpClient },
  )
}

/**
 * Creates an SDK client whose every request goes through the guard under `policy`, on the
 * service's HTTP client (src/open-payments/wallet-http.ts); fails closed (throws) if the SDK did
 * not build its HTTP client through the seam (an SDK upgrade that moved it, or an SDK loaded
 * without src/open-payments/sdk.ts).
 */
export async function createGuardedClient<T>(create: () => Promise<T>, policy: GuardPolicy): Promise<T> {
  const creating = { guarded: false, send: guardedSend(policy) }
  const client = await creatingGuardedClient.run(creating, create)
  if (!creating.guarded) throw new Error('The Open Payments SDK did not build its HTTP client through the network guard')
  return client
}
