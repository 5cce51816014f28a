import type { JWK } from '@interledger/http-signature-utils'
import type { Logger } from 'pino'
import type { RateTable } from './rates.js'

// Everything the sandbox knows lives in these maps: it forgets all of it on restart, on purpose
// (a test wallet must never be mistaken for a ledger).

export interface Amount {
  value: string
  assetCode: string
  assetScale: number
}

export interface Wallet {
  name: string
  publicName: string
  assetCode: string
  assetScale: number
  balance: bigint
  keys: JWK[]
}

export type AccessAction = 'create' | 'read' | 'read-all' | 'list' | 'list-all' | 'complete'

export interface AccessItem {
  type: 'incoming-payment' | 'outgoing-payment' | 'quote'
  actions: AccessAction[]
  identifier?: string
  limits?: {
    receiver?: string
    interval?: string
    debitAmount?: Amount
    receiveAmount?: Amount
  }
}

export interface Interaction {
  id: string
  nonce: string // the server's finish nonce, also part of the redirect path
  clientNonce: string
  finishUri: string
  createdAt: Date
  decision?: 'approved' | 'rejected'
  interactRef?: string
}

export type GrantState = 'pending' | 'approved' | 'finalized' | 'rejected' | 'revoked'

export interface Grant {
  id: string
  // The client's signing keys: from its wallet's jwks.json, or the one JWK of a directed identity.
  clientWallet?: string
  clientJwk?: JWK
  access: AccessItem[]
  state: GrantState
  continueId: string
  continueToken: string
  createdAt: Date
  interaction?: Interaction
  spentDebit: bigint
  spentReceive: bigint
}

export interface AccessToken {
  value: string
  manageId: string
  grantId: string
  expiresAt: Date
  revoked: boolean
}

export interface IncomingPayment {
  id: string
  wallet: string
  clientKey: string
  incomingAmount?: Amount
  received: bigint
  completed: boolean
  metadata?: Record<string, unknown>
  createdAt: Date
  expiresAt?: Date
}

export interface Quote {
  id: string
  wallet: string
  clientKey: string
  receiver: string
  debitAmount: Amount
  receiveAmount: Amount
  createdAt: Date
  expiresAt: Date
}

export interface OutgoingPayment {
  id: string
  wallet: string
  clientKey: string
  grantId: string
  quoteId: string
  receiver: string
  debitAmount: Amount
  receiveAmount: Amount
  sent: bigint
  failed: boolean
  state: 'FUNDING' | 'COMPLETED' | 'FAILED'
  metadata?: Record<string, unknown>
  createdAt: Date
}

export interface Fault {
  method?: string
  path: string | RegExp
  latencyMs?: number
  status?: number
  hang?: boolean
  drop?: boolean
  times?: number
}

export interface SandboxConfig {
  now: () => Date
  continueWaitSeconds: number
  quoteLifetimeMs: number
  consentLifetimeMs: number
  accessTokenLifetimeSeconds: number
  fundingDelayMs: number
  quoteFee: { fixed: bigint; basisPoints: number }
  /** Exchange rates for quotes between assets; quotes created later use the new table. */
  rates: RateTable
  logger: Logger
}

export interface SandboxState {
  wallets: Map<string, Wallet>
  grants: Map<string, Grant>
  grantsByContinueId: Map<string, Grant>
  interactions: Map<string, Grant>
  tokens: Map<string, AccessToken>
  tokensByManageId: Map<string, AccessToken>
  incomingPayments: Map<string, IncomingPayment>
  quotes: Map<string, Quote>
  outgoingPayments: Map<string, OutgoingPayment>
  faults: Fault[]
  fundingMode: 'auto' | 'manual' | 'fail'
  continuations: number
  timers: Set<NodeJS.Timeout>
  // Hanging requests wait on this; close() resolves it so the server can shut down.
  releaseHung: Array<() => void>
}

export interface SandboxContext {
  config: SandboxConfig
  state: SandboxState
  urls: SandboxUrls
}

export interface SandboxUrls {
  origin: string // http://localhost:<port>
  authServer: string // http://localhost:<port>/auth, exactly the string hashed at finish
  resourceServer: string // https://localhost:<port>/rs
  walletAddress(name: string): string
  // Wallet address ids are https:// even though the port speaks plain http, as Rafiki on loopback.
  walletNameOf(walletAddressUrl: string): string | undefined
}

export function createUrls(port: number): SandboxUrls {
  const origin = `http://localhost:${port}`
  const idOrigin = `https://localhost:${port}`
  return {
    origin,
    authServer: `${origin}/auth`,
    resourceServer: `${idOrigin}/rs`,
    walletAddress: (name) => `${idOrigin}/${name}`,
    walletNameOf(url) {
      for (const prefix of [idOrigin, origin]) {
        if (url.startsWith(`${prefix}/`)) {
          const rest = url.slice(prefix.length + 1)
          return /^[^/?#]+$/.test(rest) ? rest : undefined
        }
      }
      return undefined
    },
  }
}

export function createState(): SandboxState {
  return {
    wallets: new Map(),
    grants: new Map(),
    grantsByContinueId: new Map(),
    interactions: new Map(),
    tokens: new Map(),
    tokensByManageId: new Map(),
    incomingPayments: new Map(),
    quotes: new Map(),
    outgoingPayments: new Map(),
    faults: [],
    fundingMode: 'auto',
    continuations: 0,
    timers: new Set(),
    releaseHung: [],
  }
}
