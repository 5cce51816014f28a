// One copy of the Open Payments OpenAPI specs and their response validators per process, shared by
// every SDK client (one per seller, the public one).
//
// Why: @interledger/open-payments 7.4.0 `createAuthenticatedClient` reads and dereferences the three
// YAML specs (dist/openapi/index.js: getResourceServerOpenAPI, getWalletAddressServerOpenAPI,
// getAuthServerOpenAPI) and compiles about twenty ajv response validators for every client it
// creates: measured here 0.8-2.4 s of CPU and about 4 MB of RSS per client, never given back.
// The specs are files in the package and a validator is a pure function of (status, body), so
// one copy serves all clients. The SDK calls those three functions through its module's exports
// object at client creation, so replacing them there (once, idempotently) is enough; if an
// SDK upgrade moves them, `shareSdkValidators` throws instead of silently compiling per client.
import { createRequire } from 'node:module'

interface OpenApiLike {
  createResponseValidator(args: { path: string; method: string }): unknown
  createRequestValidator(args: { path: string; method: string }): unknown
}
type SpecLoader = () => Promise<OpenApiLike>
const LOADERS = ['getResourceServerOpenAPI', 'getWalletAddressServerOpenAPI', 'getAuthServerOpenAPI'] as const

const SHARED = Symbol.for('payments-service.shared-openapi-validators')
type SdkOpenApiModule = Record<(typeof LOADERS)[number], SpecLoader & { [SHARED]?: true }>

/** The spec, loaded once; its response validators compiled once per (path, method). */
function sharedLoader(load: SpecLoader): SpecLoader {
  let spec: Promise<OpenApiLike> | undefined
  return () => {
    spec ??= load().then((openApi) => {
      const validators = new Map<string, unknown>()
      const create = openApi.createResponseValidator.bind(openApi)
      openApi.createResponseValidator = (args) => {
        const key = `${args.method} ${args.path}`
        if (!validators.has(key)) validators.set(key, create(args))
        return validators.get(key)
      }
      return openApi
    })
    spec.catch(() => (spec = undefined)) // a failed read is tried again by the next client
    return spec
  }
}

/** Makes every SDK client created after this call share one copy of the specs and validators. */
export function shareSdkValidators(): void {
  const sdkOpenApi = createRequire(import.meta.url)('@interledger/open-payments/dist/openapi/index.js') as SdkOpenApiModule
  for (const name of LOADERS) {
    const original = sdkOpenApi[name]
    if (typeof original !== 'function') throw new Error(`The Open Payments SDK no longer exports ${name} from dist/openapi: update src/open-payments/shared-validators.ts`)
    if (original[SHARED]) continue
    sdkOpenApi[name] = Object.assign(sharedLoader(original), { [SHARED]: true as const })
  }
}
