// Reading wallet addresses (public documents: no token) and their keys. The URLs a wallet names
// (its id, auth server and resource server) are called later, so they are checked like the
// address itself; every connection is checked again when it is opened (network-guard.ts). Documents
// are cached by the service (deps.wallets.walletAddresses, bounded in wallets.ts).
import type { AuthenticatedClient, JWK, WalletAddress } from '@interledger/open-payments'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { callWallet, type WalletFailure } from './outcomes.js'
import { checkWalletAddressUrl } from './wallet-address-url.js'

export type WalletAddressRead = { outcome: 'found'; wallet: WalletAddress } | { outcome: 'notFound'; error: AppError } | WalletFailure

/** Checks `url` (named `field` in errors), or a refused outcome saying what is wrong with it. */
function checkUrl(deps: Deps, url: string, field: string): { url: string } | WalletFailure {
  try {
    return { url: checkWalletAddressUrl(url, deps.config.openPayments, field) }
  } catch (error) {
    if (error instanceof AppError) return { outcome: 'refused', error }
    throw error
  }
}

/** Failures name the field the caller gave, so that a person knows which URL to fix. */
function naming(failure: WalletFailure, field: string): WalletFailure {
  const { code, message, details } = failure.error
  return { ...failure, error: new AppError(code, message, { ...details, field }) }
}

/** A wallet address document, checked, and cached for a few minutes (they rarely change). */
export async function readWalletAddress(deps: Deps, client: AuthenticatedClient, url: string, field: string): Promise<WalletAddressRead> {
  const cache = deps.wallets.walletAddresses
  const cached = cache.get(url)
  if (cached) return { outcome: 'found', wallet: cached }
  const checked = checkUrl(deps, url, field)
  if ('outcome' in checked) return checked
  const read = await callWallet(deps, `reading the wallet address ${field}`, () => client.walletAddress.get({ url: checked.url }))
  if (read.outcome === 'refused' && read.walletStatus === 404) {
    return { outcome: 'notFound', error: new AppError('WALLET_ADDRESS_NOT_FOUND', `There is no wallet address at ${checked.url} (${field})`, { field }) }
  }
  if (read.outcome !== 'answered') return naming(read, field)
  const wallet = read.value
  for (const [name, named] of [['id', wallet.id], ['authServer', wallet.authServer], ['resourceServer', wallet.resourceServer]] as const) {
    const ok = checkUrl(deps, named, `${field} ${name}`)
    if ('outcome' in ok) return naming(ok, field)
  }
  cache.set(url, wallet)
  return { outcome: 'found', wallet }
}

export type WalletKeysRead = { outcome: 'found'; keys: JWK[] } | { outcome: 'notFound'; error: AppError } | WalletFailure

/** The public keys a wallet address publishes (its jwks.json), read without signing. */
export async function readWalletKeys(deps: Deps, url: string, field: string): Promise<WalletKeysRead> {
  const checked = checkUrl(deps, url, field)
  if ('outcome' in checked) return checked
  const client = await deps.wallets.publicClient()
  const read = await callWallet(deps, `reading the wallet keys (jwks.json) of ${field}`, () => client.walletAddress.getKeys({ url: checked.url }))
  if (read.outcome === 'refused' && read.walletStatus === 404) {
    return { outcome: 'notFound', error: new AppError('WALLET_ADDRESS_NOT_FOUND', `There is no wallet address at ${checked.url} (${field})`, { field }) }
  }
  if (read.outcome !== 'answered') return naming(read, field)
  return { outcome: 'found', keys: read.value.keys }
}
