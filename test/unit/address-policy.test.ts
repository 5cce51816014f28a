// The address classification behind every wallet connection (src/open-payments/network-guard.ts).
import { expect, it } from 'vitest'
import { isPublicAddress } from '../../src/open-payments/network-guard.js'

it.each([
  '127.0.0.1', '10.0.0.1', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '192.0.2.1',
  '::1', '::', 'fe80::1', 'fd00::1', 'fc00::1', 'ff02::1',
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:0:7f00:1', '::7f00:1', '::127.0.0.1', '::a00:1',
  '64:ff9b::7f00:1', '64:ff9b:1::1', '2002:7f00:1::', '2002:c0a8:101::1', '2001::1', '2001:0:7f00:1::', '2001:db8::1', '100::1', 'fec0::1',
  'not an address', 'localhost',
])('%s is not public', (address) => {
  expect(isPublicAddress(address)).toBe(false)
})

it.each(['93.184.216.34', '8.8.8.8', '::ffff:8.8.8.8', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e'])('%s is public', (address) => {
  expect(isPublicAddress(address)).toBe(true)
})
