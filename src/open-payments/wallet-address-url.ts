// The shape of every wallet URL the service stores or calls: https only (plain http only with
// OPEN_PAYMENTS_USE_HTTP), no credentials, query or fragment, and no IP literal that is not a
// public address (unless OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS). Both switches are refused in
// production by src/config.ts. Host names are checked where it matters, when a connection is
// opened (src/open-payments/network-guard.ts): a check here could be undone by DNS.
import net from 'node:net'
import { AppError } from '../errors.js'
import { isPublicAddress } from './network-guard.js'

export interface WalletUrlPolicy {
  useHttp: boolean
  allowPrivateHosts: boolean
}

/** Returns the normalised URL (no trailing slash) or throws INVALID_WALLET_ADDRESS naming the field. */
export function checkWalletAddressUrl(raw: string, policy: WalletUrlPolicy, field: string): string {
  const invalid = (message: string) => new AppError('INVALID_WALLET_ADDRESS', `${field} ${message}`, { field })
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw invalid('is not a URL')
  }
  if (url.protocol !== 'https:' && !(policy.useHttp && url.protocol === 'http:')) {
    throw invalid('must be an https:// URL')
  }
  if (url.username || url.password) throw invalid('must not carry credentials')
  if (url.hash || url.search) throw invalid('must not have a query or fragment')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!policy.allowPrivateHosts && (net.isIP(host) ? !isPublicAddress(host) : host === 'localhost' || host.endsWith('.localhost'))) {
    throw invalid('must not point to a loopback, link-local or private address')
  }
  return url.href.replace(/\/+$/, '')
}

const MAX_APPROVAL_URL_LENGTH = 2048

/**
 * Whether a wallet's approval link (a grant's interact.redirect, where the buyer's browser is sent
 * and which the marketplace may render as a link) is a plain web address: https (http only when
 * OPEN_PAYMENTS_USE_HTTP allows plain-HTTP wallets in development), no credentials, bounded length.
 * Never javascript:, data: or anything else a browser would run.
 */
export function isApprovalUrl(value: string, options: { useHttp: boolean }): boolean {
  if (value.length > MAX_APPROVAL_URL_LENGTH || !URL.canParse(value)) return false
  const { protocol, username, password } = new URL(value)
  return (protocol === 'https:' || (protocol === 'http:' && options.useHttp)) && !username && !password
}
