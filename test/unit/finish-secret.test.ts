import crypto from 'node:crypto'
import { expect, it } from 'vitest'
import { createFinishSecret, finishSecretMatches } from '../../src/payments/finish-secret.js'

it('is 32 random bytes in base64url; only its SHA-256 (hex) is kept', () => {
  const { secret, hash } = createFinishSecret()
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
  expect(Buffer.from(secret, 'base64url')).toHaveLength(32)
  expect(hash).toBe(crypto.createHash('sha256').update(secret).digest('hex'))
  expect(createFinishSecret().secret).not.toBe(secret)
})

it('matches only the secret itself; a payment without one matches nothing', () => {
  const { secret, hash } = createFinishSecret()
  expect(finishSecretMatches(hash, secret)).toBe(true)
  for (const wrong of [undefined, '', secret.slice(1), `${secret}=`, secret.toUpperCase(), hash]) expect(finishSecretMatches(hash, wrong)).toBe(false)
  expect(finishSecretMatches(null, secret)).toBe(false)
  expect(finishSecretMatches('', '')).toBe(false)
  expect(finishSecretMatches('abcd', secret)).toBe(false) // a damaged stored hash
})
