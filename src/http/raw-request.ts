// Reading a node:http request the way Hono reads it, for the paths served straight from node:http
// in front of the Hono app (src/graphql/direct-http.ts, src/http/direct-reads.ts): they take a
// request only when Hono would take it as it is, and hand everything else to Hono unchanged.

/** The request headers named in `names`, each as Hono reads it (all occurrences joined with ", "). */
export function headersOf<Name extends string>(raw: string[], names: ReadonlySet<Name>): Partial<Record<Name, string>> {
  const headers: Record<string, string> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    if (!names.has(name as Name)) continue
    headers[name] = name in headers ? `${headers[name]}, ${raw[i + 1]}` : raw[i + 1]
  }
  return headers as Partial<Record<Name, string>>
}

/** A Host @hono/node-server takes as it is (its own test); any other, it checks and may refuse: Hono answers. */
export const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/
