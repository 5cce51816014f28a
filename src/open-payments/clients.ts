// One authenticated Open Payments client per seller, created on first use and cached. The
// seller's wallet address is the client identity; its key signs every request.
import { createAuthenticatedClient, type AuthenticatedClient } from '@interledger/open-payments'
import { config } from '../config.js'
import type { Seller } from '../db.js'
import { sdkLogger } from './sdk-logger.js'
import { loadPrivateKey } from '../sellers/keys.js'

const clients = new Map<string, { key: string; client: Promise<AuthenticatedClient> }>()

export function getSellerClient(seller: Seller): Promise<AuthenticatedClient> {
  // Re-registering a seller changes these, which must not reuse a client signing with the old key.
  const key = `${seller.walletAddressUrl}|${seller.keyId}|${seller.privateKeyPath}`
  const cached = clients.get(seller.id)
  if (cached?.key === key) return cached.client
  const client = createAuthenticatedClient({
    walletAddressUrl: seller.walletAddressUrl,
    keyId: seller.keyId,
    privateKey: loadPrivateKey(config.keysDir, seller.privateKeyPath),
    useHttp: config.openPayments.useHttp,
    requestTimeoutMs: config.openPayments.timeoutMs,
    validateResponses: true,
    logger: sdkLogger(),
  })
  client.catch(() => clients.delete(seller.id))
  clients.set(seller.id, { key, client })
  return client
}

export function forgetSellerClient(sellerId: string): void {
  clients.delete(sellerId)
}
