// The buyer's wallet chooses the approval link the service hands to the marketplace and the
// buyer's browser (redirectUrl / paymentUrl): only plain web addresses pass.
import { describe, expect, it } from 'vitest'
import { isApprovalUrl } from '../../src/open-payments/wallet-address-url.js'

describe('approval links from the buyer wallet', () => {
  it('accepts https links, and http only where plain-HTTP wallets are allowed', () => {
    expect(isApprovalUrl('https://wallet.example/interact/abc/def?clientName=Shop', { useHttp: false })).toBe(true)
    expect(isApprovalUrl('http://localhost:4100/interact/abc/def', { useHttp: true })).toBe(true)
    expect(isApprovalUrl('http://wallet.example/interact/abc', { useHttp: false })).toBe(false)
  })

  it('refuses links a browser would run or that carry credentials, and unbounded ones', () => {
    for (const bad of [
      'javascript:alert(document.domain)',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'https://user:pass@wallet.example/interact',
      '//wallet.example/interact',
      'not a url',
      `https://wallet.example/${'a'.repeat(2100)}`,
    ]) {
      expect(isApprovalUrl(bad, { useHttp: true }), bad).toBe(false)
    }
  })
})
