// A service's Open Payments clients and what it caches per seller and per wallet (deps.wallets),
// created once per service by startService (src/service.ts) from its configuration and logger:
//  - one authenticated client per seller, created on first use and cached (at most
//    SELLER_CLIENTS_MAX, least recently used dropped): the seller's wallet address is the client
//    identity; its key signs every request. One public client for unsigned reads.
//  - the sellers' non-interactive grant tokens (grant-tokens.ts).
//  - the wallet address documents read lately (wallet-addresses.ts).
// Every client sends through the network guard (network-guard.ts) under this service's
// OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS, and shares one copy per process of the OpenAPI specs and
// response validators (shared-validators.ts), so a client costs little memory and a millisecond.
import type { AuthenticatedClient, UnauthenticatedClient, WalletAddress } from '@interledger/open-payments'
import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Seller } from '../db.js'
import { loadPrivateKey } from '../sellers/keys.js'
import { forgetGrantTokens, type GrantTokenCache } from './grant-tokens.js'
import { createGuardedClient } from './network-guard.js'
import { loadSdk } from './sdk.js'
import { sdkLogger } from './sdk-logger.js'

const SELLER_CLIENTS_MAX = 1000
// One grant token per seller and auth server (a buyer's wallet names its own): bounded, least
// recently used dropped (a dropped token only costs a new grant).
const GRANT_TOKENS_MAX = 10_000
// Buyers name any wallet address, so that cache is bounded: the most recently used documents, for a
// few minutes each.
const WALLET_ADDRESSES_MS = 5 * 60_000
const WALLET_ADDRESSES_MAX = 10_000

/** What a seller's client is made of (the columns sellerClient reads). */
export type SellerIdentity = Pick<Seller, 'id' | 'walletAddressUrl' | 'keyId' | 'privateKeyPath'>

export interface Wallets {
  /** The seller's signing client (a new one when the seller's wallet, key id or key file changed). */
  sellerClient(seller: SellerIdentity): Promise<AuthenticatedClient>
  /** The client for unsigned reads (wallet address keys). */
  publicClient(): Promise<UnauthenticatedClient>
  /** Drops the seller's client and grant tokens (its registration changed: src/sellers/changes.ts). */
  forgetSeller(sellerId: string): void
  /** The grant tokens withGrantToken keeps (grant-tokens.ts). */
  readonly grantTokens: GrantTokenCache
  /** Wallet address documents by URL (wallet-addresses.ts). */
  readonly walletAddresses: LRUCache<string, WalletAddress>
}

export function createWallets(config: Config, logger: Logger): Wallets {
  const { useHttp, timeoutMs: requestTimeoutMs, allowPrivateHosts } = config.openPayments
  const policy = { allowPrivateHosts }
  const clients = new LRUCache<string, { key: string; client: Promise<AuthenticatedClient> }>({ max: SELLER_CLIENTS_MAX })
  const grantTokens: GrantTokenCache = new LRUCache({ max: GRANT_TOKENS_MAX })
  let publicClient: Promise<UnauthenticatedClient> | undefined

  return {
    sellerClient(seller) {
      // Re-registering a seller changes these, which must not reuse a client signing with the old key.
      const key = `${seller.walletAddressUrl}|${seller.keyId}|${seller.privateKeyPath}`
      const cached = clients.get(seller.id)
      if (cached?.key === key) return cached.client
      const privateKey = loadPrivateKey(config.keysDir, seller.privateKeyPath)
      const client = createGuardedClient(
        async () =>
          (await loadSdk()).createAuthenticatedClient({
            walletAddressUrl: seller.walletAddressUrl,
            keyId: seller.keyId,
            privateKey,
            useHttp,
            requestTimeoutMs,
            validateResponses: true,
            logger: sdkLogger(logger),
          }),
        policy,
      )
      client.catch(() => clients.get(seller.id)?.client === client && clients.delete(seller.id))
      clients.set(seller.id, { key, client })
      return client
    },

    publicClient() {
      publicClient ??= createGuardedClient(async () => (await loadSdk()).createUnauthenticatedClient({ useHttp, requestTimeoutMs, logger: sdkLogger(logger) }), policy)
      return publicClient
    },

    forgetSeller(sellerId) {
      clients.delete(sellerId)
      forgetGrantTokens(grantTokens, sellerId)
    },

    grantTokens,
    walletAddresses: new LRUCache<string, WalletAddress>({ max: WALLET_ADDRESSES_MAX, ttl: WALLET_ADDRESSES_MS }),
  }
}
