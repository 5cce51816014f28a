// SDK clients share one copy of the OpenAPI specs and response validators (memory and CPU per
// client), and responses are still validated against the specification.
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { shareSdkValidators } from '../../src/open-payments/shared-validators.js'

type OpenApi = { createResponseValidator(args: { path: string; method: string }): (response: { status: number; body: unknown }) => boolean }
const sdkOpenApi = createRequire(import.meta.url)('@interledger/open-payments/dist/openapi/index.js') as Record<string, () => Promise<OpenApi>>

describe('shared OpenAPI validators', () => {
  it('loads each spec once and compiles each response validator once, for every client', async () => {
    shareSdkValidators()
    shareSdkValidators() // idempotent: a second call does not wrap again
    const [first, second] = [await sdkOpenApi.getResourceServerOpenAPI(), await sdkOpenApi.getResourceServerOpenAPI()]
    expect(second).toBe(first)
    const quote = { path: '/quotes', method: 'post' }
    expect(first.createResponseValidator(quote)).toBe(second.createResponseValidator(quote))
    expect(first.createResponseValidator(quote)).not.toBe(first.createResponseValidator({ path: '/quotes/{id}', method: 'get' }))
  })

  it('still refuses a response that breaks the specification', async () => {
    shareSdkValidators()
    const openApi = await sdkOpenApi.getWalletAddressServerOpenAPI()
    const validate = openApi.createResponseValidator({ path: '/', method: 'get' })
    const wallet = { id: 'https://w.example/a', publicName: 'A', assetCode: 'USD', assetScale: 2, authServer: 'https://auth.example', resourceServer: 'https://rs.example' }
    expect(validate({ status: 200, body: wallet })).toBe(true)
    expect(() => validate({ status: 200, body: { ...wallet, assetScale: 'two' } })).toThrow()
  })
})
