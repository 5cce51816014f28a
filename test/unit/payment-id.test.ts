// pendingIds are public: one must not tell anything about another minted at the same moment.
import { decodeTime } from 'ulid'
import { afterEach, expect, it, vi } from 'vitest'
import { newPaymentId } from '../../src/payments/start.js'

afterEach(() => vi.useRealTimers())

const sharedPrefix = (a: string, b: string) => [...a].findIndex((c, i) => c !== b[i])

it('pendingIds minted in the same millisecond share nothing but the time', () => {
  vi.useFakeTimers({ now: new Date('2026-11-29T12:00:00Z'), toFake: ['Date'] })
  const ids = Array.from({ length: 200 }, () => newPaymentId())
  expect(new Set(ids.map((id) => decodeTime(id)))).toEqual(new Set([Date.parse('2026-11-29T12:00:00Z')]))
  expect(new Set(ids).size).toBe(ids.length)
  // A monotonic factory would keep 15 of the 16 random characters and count up the last one.
  // Two independent 80-bit draws share 6 leading characters once in 2^30.
  for (let i = 1; i < ids.length; i++) expect(sharedPrefix(ids[i].slice(10), ids[i - 1].slice(10))).toBeLessThan(6)
})
