// Which requests the GraphQL fast path (fast-path.ts) reads, by their Accept and Content-Type
// headers. Apart from fast-path.ts so that the node:http listener in front of it
// (direct-http.ts), loaded at start-up, does not load graphql with it: the GraphQL stack loads
// after the server listens (src/app.ts).

/** The Accept headers answered here, and the media type yoga answers each with. */
const acceptedMediaTypes: Record<string, string> = {
  '': 'application/json',
  '*/*': 'application/json',
  'application/json': 'application/json',
  'application/graphql-response+json': 'application/graphql-response+json',
  'application/graphql-response+json, application/json': 'application/graphql-response+json',
}

/** The media type the fast path answers a request with this Accept header in, or undefined when yoga must answer it. */
export const fastPathMediaType = (accept: string | null | undefined): string | undefined =>
  Object.hasOwn(acceptedMediaTypes, accept ?? '') ? acceptedMediaTypes[accept ?? ''] : undefined // not `Accept: constructor`

/** True for the one Content-Type the fast path reads (anything else, yoga answers). */
export const isFastPathContentType = (contentType: string | null | undefined) =>
  typeof contentType === 'string' && /^application\/json(;\s*charset=utf-8)?$/i.test(contentType)
