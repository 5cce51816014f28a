// Reading wallet addresses, with the SSRF guard applied to the address and to the auth and
// resource servers it names (both are URLs chosen by whoever controls that wallet).
import type { AuthenticatedClient, WalletAddress } from '@interledger/open-payments'
import { config } from '../config.js'
import { toWalletError } from './errors.js'
import { checkWalletAddressUrl } from './wallet-address-url.js'

const CACHE_MS = 5 * 60_000
const cache = new Map<string, { wallet: WalletAddress; until: number }>()

/** A wallet address document, checked, and cached for a few minutes (they rarely change). */
export async function getWalletAddress(client: AuthenticatedClient, url: string, field: string): Promise<WalletAddress> {
  // A cached document was checked when it was fetched: no DNS lookups on the hot path.
  const cached = cache.get(url)
  if (cached && cached.until > Date.now()) return cached.wallet
  const checked = await checkWalletAddressUrl(url, config.openPayments, field)
  let wallet: WalletAddress
  try {
    wallet = await client.walletAddress.get({ url: checked })
  } catch (error) {
    throw toWalletError(error, `reading the wallet address ${field}`)
  }
  // Every URL the wallet names is called later (or stored and called): check them all.
  await checkWalletAddressUrl(wallet.id, config.openPayments, `${field} id`)
  await checkWalletAddressUrl(wallet.authServer, config.openPayments, `${field} authServer`)
  await checkWalletAddressUrl(wallet.resourceServer, config.openPayments, `${field} resourceServer`)
  cache.set(url, { wallet, until: Date.now() + CACHE_MS })
  return wallet
}
