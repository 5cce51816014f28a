// Guards every wallet address URL the service will call (server-side request forgery): https only
// (plain http only with OPEN_PAYMENTS_USE_HTTP), and no loopback, link-local or private address
// unless OPEN_PAYMENTS_ALLOW_PRIVATE_HOSTS (both refused in production by src/config.ts).
import dns from 'node:dns/promises'
import net from 'node:net'
import { AppError } from '../errors.js'

const DNS_TIMEOUT_MS = 2000
const blocked = new net.BlockList()
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(prefix, bits, 'ipv4')
}
for (const [prefix, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(prefix, bits, 'ipv6')
}

function isBlockedAddress(address: string): boolean {
  const family = net.isIPv6(address) ? 'ipv6' : 'ipv4'
  const mapped = family === 'ipv6' && /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return blocked.check(mapped[1], 'ipv4')
  return blocked.check(address, family)
}

export interface WalletUrlPolicy {
  useHttp: boolean
  allowPrivateHosts: boolean
}

/**
 * Returns the normalised URL or throws INVALID_WALLET_ADDRESS naming the field. A host name that
 * does not resolve is refused (fail closed) unless `allowUnresolvable`: seller registration without
 * the wallet check, for offline setups, where nothing is called yet.
 */
export async function checkWalletAddressUrl(raw: string, policy: WalletUrlPolicy, field: string, allowUnresolvable = false): Promise<string> {
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
  if (!policy.allowPrivateHosts) {
    const host = url.hostname.replace(/^\[|\]$/g, '')
    let addresses: string[] = [host]
    if (!net.isIP(host)) {
      const lookup = dns.lookup(host, { all: true, verbatim: true }).then((found) => found.map((a) => a.address))
      const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([]), DNS_TIMEOUT_MS).unref())
      addresses = await Promise.race([lookup, timeout]).catch(() => [])
    }
    if (addresses.length === 0 && !allowUnresolvable) throw invalid('has a host name that does not resolve')
    if (addresses.some(isBlockedAddress)) {
      throw invalid('must not point to a loopback, link-local or private address')
    }
  }
  return url.href.replace(/\/+$/, "")
}
