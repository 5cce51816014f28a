// Open Payments SDK clients. One authenticated client per seller, created on first use and cached
// (at most SELLER_CLIENTS_MAX, least recently used dropped): the seller's wallet address is the
// client identity; its key signs every request. One public client for unsigned reads. Every client
// sends through the network guard (network-guard.ts) and shares one copy of the OpenAPI specs and
// response validators (shared-validators.ts), so a client costs little memory and a millisecond.
import { createAuthenticatedClient, createUnauthenticatedClient, type AuthenticatedClient, type UnauthenticatedClient } from '@interledger/open-payments'
import { LRUCache } from 'lru-cache'
import { config } from '../config.js'
import type { Seller } from '../db.js'
import { loadPrivateKey } from '../sellers/keys.js'
import { createGuardedClient } from './network-guard.js'
import { sdkLogger } from './sdk-logger.js'
import { shareSdkValidators } from './shared-validators.js'

shareSdkValidators()

const SELLER_CLIENTS_MAX = 1000
const clients = new LRUCache<string, { key: string; client: Promise<AuthenticatedClient> }>({ max: SELLER_CLIENTS_MAX })

/** What a seller's client is made of (the columns getSellerClient reads). */
export type SellerIdentity = Pick<Seller, 'id' | 'walletAddressUrl' | 'keyId' | 'privateKeyPath'>

export function getSellerClient(seller: SellerIdentity): Promise<AuthenticatedClient> {
  // Re-registering a seller changes these, which must not reuse a client signing with the old key.
  const key = `${seller.walletAddressUrl}|${seller.keyId}|${seller.privateKeyPath}`
  const cached = clients.get(seller.id)
  if (cached?.key === key) return cached.client
  const privateKey = loadPrivateKey(config.keysDir, seller.privateKeyPath)
  const client = createGuardedClient(() =>
    createAuthenticatedClient({
      walletAddressUrl: seller.walletAddressUrl,
      keyId: seller.keyId,
      privateKey,
      useHttp: config.openPayments.useHttp,
      requestTimeoutMs: config.openPayments.timeoutMs,
      validateResponses: true,
      logger: sdkLogger(),
    }),
  )
  client.catch(() => clients.get(seller.id)?.client === client && clients.delete(seller.id))
  clients.set(seller.id, { key, client })
  return client
}

export function forgetSellerClient(sellerId: string): void {
  clients.delete(sellerId)
}

let publicClient: Promise<UnauthenticatedClient> | undefined

export function getPublicClient(): Promise<UnauthenticatedClient> {
  publicClient ??= createGuardedClient(() =>
    createUnauthenticatedClient({ useHttp: config.openPayments.useHttp, requestTimeoutMs: config.openPayments.timeoutMs, logger: sdkLogger() }),
  )
  return publicClient
}
