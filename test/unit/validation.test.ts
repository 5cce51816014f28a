import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { AppError } from '../../src/errors.js'
import { StartCheckoutInput } from '../../src/payments/start.js'
import { parseInput } from '../../src/validation.js'

function refusal(schema: z.ZodType, input: unknown): AppError {
  try {
    parseInput(schema, input)
  } catch (error) {
    if (error instanceof AppError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('validation messages', () => {
  it('names every missing field as required, in one sentence, with per-field details', () => {
    const error = refusal(StartCheckoutInput, {})
    expect(error.code).toBe('VALIDATION_FAILED')
    expect(error.message).toBe('Invalid input: offerId is required; sellerId is required; buyerWalletAddressUrl is required; amount is required.')
    expect(error.details).toEqual({
      fields: { offerId: 'is required', sellerId: 'is required', buyerWalletAddressUrl: 'is required', amount: 'is required' },
    })
  })

  it('says what a wrong field should be', () => {
    const error = refusal(StartCheckoutInput, { offerId: 42, sellerId: '', buyerWalletAddressUrl: 'x'.repeat(3000), amount: '1', returnUrl: 'ftp://x' })
    expect(error.details).toEqual({
      fields: {
        offerId: 'must be a string (got number)',
        sellerId: 'must not be empty',
        buyerWalletAddressUrl: 'must be at most 2048 characters',
        returnUrl: 'must be a valid URL',
      },
    })
    expect(error.message).not.toMatch(/expected|received|nonoptional/)
    expect(refusal(z.object({ status: z.enum(['pending', 'paid']) }), { status: 'x' }).details).toEqual({ fields: { status: 'must be one of "pending", "paid"' } })
    expect(refusal(z.object({ n: z.number().max(5) }), { n: 9 }).details).toEqual({ fields: { n: 'must be at most 5' } })
  })

  it('keeps the messages a schema writes itself', () => {
    const schema = z.object({ pendingId: z.string().regex(/^[0-9A-Z]{26}$/, 'must be a pendingId (ULID)') })
    expect(refusal(schema, { pendingId: 'x' }).message).toBe('Invalid input: pendingId must be a pendingId (ULID).')
  })
})
