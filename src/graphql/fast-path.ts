// A cheaper way through GraphQL for the marketplace's everyday operations. yoga's pipeline (a
// WHATWG Request and Response per call, a dozen plugin hooks, parse and validation caches keyed
// per request) costs far more than executing a small query. Here, a plain `POST application/json`
// of one valid query or mutation runs its document from a cache keyed by the query text:
// parsed and validated once by yoga's own parse and validate (so graphql-armor's limits on depth,
// aliases, cost and tokens apply), compiled once per operation by graphql-jit against the same
// Pothos schema, its errors masked by the same function, its answer serialised as yoga does.
// Everything else goes to yoga unchanged and keeps its exact answers: GET, subscriptions and
// event streams, batches, other content types or Accept headers, invalid documents, and requests
// whose variables do not fit (nothing has run yet for those, so yoga may answer them).
// test/hardening/graphql-fast-path.test.ts compares both paths byte for byte.
import type { CompiledQuery } from 'graphql-jit'
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql'
import type { YogaServerInstance } from 'graphql-yoga'
import { fastPathMediaType, isFastPathContentType } from './fast-path-media.js'

/** graphql-jit (and the serialiser it brings) loads on the first operation, not at start-up. */
let jit: Promise<typeof import('graphql-jit')> | undefined
const loadJit = () => (jit ??= import('graphql-jit'))

/** Documents kept at most; the marketplace sends a handful, an attacker may send endless new ones. */
const MAX_DOCUMENTS = 500
/**
 * Compiled operations kept at most, across all documents (one document may hold hundreds of
 * operations, and a compiled one weighs about 100 KB); a name the document does not define is never kept.
 */
const MAX_COMPILED_OPERATIONS = 200

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- yoga's own type for a server without server context (its user context: the deps)
type Yoga = YogaServerInstance<{}, any>

interface CachedDocument {
  /** Undefined when yoga refuses it (syntax, validation, armor): yoga answers it every time. */
  document?: DocumentNode
  /** Compiled per operation name ('' for none); null when it is not served here (subscriptions). */
  operations: Map<string, CompiledQuery | null>
}

/** The fast path's answer to one request: yoga's status, Content-Type and body. */
export interface FastPathAnswer {
  status: number
  contentType: string
  body: string
}

interface GraphQLParams {
  query: string
  variables?: Record<string, unknown> | null
  operationName?: string | null
}

function plainParams(body: unknown): GraphQLParams | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const { query, variables, operationName, ...rest } = body as Record<string, unknown>
  if (Object.keys(rest).length > 0 || typeof query !== 'string') return undefined
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined
  return { query, variables: variables as GraphQLParams['variables'], operationName }
}

/** An error as yoga serialises it: graphql-js's JSON shape without yoga's internal extensions. */
function errorJson(error: GraphQLError) {
  const { extensions: all, ...json } = error.toJSON()
  const { http: _http, unexpected: _unexpected, ...extensions } = all ?? {}
  return Object.keys(extensions).length ? { ...json, extensions } : json
}

/**
 * `yoga.fetch` with the fast path in front of it. `maskError` is the function yoga masks with
 * (src/graphql/yoga.ts), so both paths disclose exactly the same; `context` is what yoga merges
 * into every request's context (the service's deps), merged here the same way.
 */
export function withFastPath(yoga: Yoga, maskError: (error: unknown) => GraphQLError, context: Record<string, unknown> = {}) {
  const { parse, validate, schema } = yoga.getEnveloped({} as Parameters<Yoga['getEnveloped']>[0])
  const documents = new Map<string, CachedDocument>()

  function cachedDocument(query: string): CachedDocument {
    let cached = documents.get(query)
    if (cached) return cached
    cached = { operations: new Map() }
    try {
      const document = parse(query)
      if (validate(schema, document).length === 0) cached.document = document
    } catch {
      // Refused by the parser (syntax, armor's token limit): yoga answers it.
    }
    if (documents.size >= MAX_DOCUMENTS) documents.delete(documents.keys().next().value!)
    documents.set(query, cached)
    return cached
  }

  let compiledOperations = 0

  async function compiledOperation(cached: CachedDocument, operationName: string | undefined): Promise<CompiledQuery | null> {
    const key = operationName ?? ''
    let compiled = cached.operations.get(key)
    if (compiled !== undefined) return compiled
    const operation = getOperationAST(cached.document!, operationName)
    if (!operation) return null // no such operation: yoga says so, and nothing is kept for the name
    compiled = null
    if (operation.operation !== 'subscription') {
      const { compileQuery, isCompiledQuery } = await loadJit()
      const result = compileQuery(schema, cached.document!, operationName)
      if (isCompiledQuery(result)) compiled = result
    }
    if (compiledOperations >= MAX_COMPILED_OPERATIONS) {
      // Full: start again from nothing (the marketplace's few operations are compiled again at once).
      for (const document of documents.values()) document.operations.clear()
      compiledOperations = 0
    }
    cached.operations.set(key, compiled)
    compiledOperations++
    return compiled
  }

  function respond(result: ExecutionResult, mediaType: string): FastPathAnswer {
    const errors = result.errors?.map((error) => maskError(error))
    let status = 200
    for (const error of errors ?? []) {
      const http = error.extensions?.http as { status?: number; spec?: boolean } | undefined
      if (http?.status && !(mediaType === 'application/json' && http.spec) && http.status > status) status = http.status
    }
    const body = JSON.stringify(errors?.length ? { errors: errors.map(errorJson), data: result.data } : { data: result.data })
    return { status, contentType: `${mediaType}; charset=utf-8`, body }
  }

  /**
   * Answers the body of a `POST application/json` accepting `mediaType` (fastPathMediaType), or
   * undefined when yoga must answer it: nothing has run then. `request` is the WHATWG Request when
   * there is one (the direct path, src/graphql/direct-http.ts, has none); no resolver reads it.
   */
  async function answer(text: string, mediaType: string, request?: Request): Promise<FastPathAnswer | undefined> {
    let params: GraphQLParams | undefined
    try {
      params = plainParams(JSON.parse(text))
    } catch {
      return undefined
    }
    if (!params) return undefined
    const cached = cachedDocument(params.query)
    if (!cached.document) return undefined
    const compiled = await compiledOperation(cached, params.operationName ?? undefined)
    if (!compiled) return undefined
    // A fresh context per request, as yoga's: plugin-prisma keys its per-request loaders on it.
    const result = await compiled.query(undefined, { ...context, request, params }, params.variables ?? {})
    // Variables that do not fit the operation: nothing ran, so yoga answers with its own words.
    if (!('data' in result)) return undefined
    return respond(result as ExecutionResult, mediaType)
  }

  async function fetch(request: Request): Promise<Response> {
    const mediaType = fastPathMediaType(request.headers.get('accept'))
    if (request.method !== 'POST' || !mediaType || !isFastPathContentType(request.headers.get('content-type')) || request.url.includes('?')) {
      return yoga.fetch(request)
    }
    const text = await request.text()
    const answered = await answer(text, mediaType, request)
    if (!answered) return yoga.fetch(new Request(request.url, { method: request.method, headers: request.headers, body: text }))
    const { status, contentType, body } = answered
    return new Response(body, { status, headers: { 'Content-Type': contentType, 'content-length': String(Buffer.byteLength(body)) } })
  }

  /** How many compiled operations are kept now (bounded by MAX_COMPILED_OPERATIONS). */
  return Object.assign(fetch, { answer, compiledOperations: () => compiledOperations })
}
