// The finish hash against the value recorded from Rafiki (../shared/open-payments/transcript).
import { describe, expect, it } from 'vitest'
import { computeFinishHash, verifyFinishHash } from '../../src/open-payments/finish-hash.js'

const recorded = {
  clientNonce: '0a253494b73714d0939de846425c493c',
  finishNonce: '861B150E203034C1',
  interactRef: '49c944e3-36bd-46ac-acac-21fe3022c4ca',
  grantEndpointUrl: 'http://localhost:3006/438fa74a-fa7d-4317-9ced-dde32ece1787',
}
const rafikiHash = 'l7+2YzBOjP3VhqThoucNxleh5sjbBK6iGSZHbRsGOLg='

describe('finish hash', () => {
  it('computes exactly what the reference server sent', () => {
    expect(computeFinishHash(recorded).toString('base64')).toBe(rafikiHash)
  })

  it('accepts either alphabet, with or without padding, and + turned into a space', () => {
    for (const variant of [rafikiHash, rafikiHash.replace(/=$/, ''), 'l7-2YzBOjP3VhqThoucNxleh5sjbBK6iGSZHbRsGOLg', rafikiHash.replace('+', ' ')]) {
      expect(verifyFinishHash(variant, recorded), variant).toBe(true)
    }
  })

  it('tolerates the trailing-slash variant of the grant endpoint (Rafiki before 2.1)', () => {
    const oldRafiki = computeFinishHash({ ...recorded, grantEndpointUrl: `${recorded.grantEndpointUrl}/` }).toString('base64')
    expect(verifyFinishHash(oldRafiki, recorded)).toBe(true)
  })

  it('refuses anything else', () => {
    expect(verifyFinishHash(rafikiHash, { ...recorded, interactRef: 'another' })).toBe(false)
    expect(verifyFinishHash(rafikiHash, { ...recorded, clientNonce: 'guessed' })).toBe(false)
    expect(verifyFinishHash('', recorded)).toBe(false)
    expect(verifyFinishHash('l7+2YzBO', recorded)).toBe(false)
    expect(verifyFinishHash(Buffer.alloc(32).toString('base64'), recorded)).toBe(false)
  })
})
