// Open Payments SDK clients. One authenticated client per seller, created on first use and cached:
// the seller's wallet address is the client identity; its key signs every request. One public
// client for unsigned reads. Every client sends through the network guard (network-guard.ts).
import { createAuthenticatedClient, createUnauthenticatedClient, type AuthenticatedClient, type UnauthenticatedClient } from '@interledger/open-payments'
import { config } from '../config.js'
import type { Seller } from '../db.js'
import { loadPrivateKey } from '../sellers/keys.js'
import { createGuardedClient } from './network-guard.js'
import { sdkLogger } from './sdk-logger.js'

const clients = new Map<string, { key: string; client: Promise<AuthenticatedClient> }>()

export function getSellerClient(seller: Seller): Promise<AuthenticatedClient> {
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
  client.catch(() => clients.delete(seller.id))
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
