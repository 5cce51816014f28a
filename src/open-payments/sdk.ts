// The Open Payments SDK, loaded on the first wallet call instead of at start-up: its module graph
// (the OpenAPI specifications, their parser, ajv, the signature libraries) took about 0.3 s of a
// start, before the service could answer /health. Every use of the SDK's values goes through
// `loadSdk()`; its types are imported as types only (erased at build). Loading it also installs the
// service's two seams into it, once per process: the shared response validators
// (shared-validators.ts) and the guarded HTTP client (network-guard.ts).
import { installHttpClientSeam } from './network-guard.js'
import { shareSdkValidators } from './shared-validators.js'

type Sdk = typeof import('@interledger/open-payments')
let sdk: Promise<Sdk> | undefined

export function loadSdk(): Promise<Sdk> {
  sdk ??= import('@interledger/open-payments').then((loaded) => {
    shareSdkValidators()
    installHttpClientSeam()
    return loaded
  })
  return sdk
}
