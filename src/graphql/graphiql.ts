// GraphiQL, offline: the page and its assets come from the installed @graphql-yoga/graphiql
// package (no CDN), served by our own public routes. The page executes nothing itself: the
// operations it sends go to /graphql with the API token like any other client's.
import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Hono } from 'hono'

const require = createRequire(import.meta.url)
const packageDir = path.dirname(require.resolve('@graphql-yoga/graphiql/package.json'))
const { version } = require('@graphql-yoga/graphiql/package.json') as { version: string }

/** Where the assets live; the version in the path lets browsers cache them for good. */
export const GRAPHIQL_ASSETS_PATH = `/graphiql-assets/${version}`

/** The files the page loads, and nothing else of the package. */
const assets: Record<string, string> = {
  'graphiql.css': 'text/css; charset=utf-8',
  'yoga-graphiql.umd.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/editor.worker.bundle.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/json.worker.bundle.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/graphql.worker..bundle.js': 'text/javascript; charset=utf-8',
}

/** Public static files: the GraphiQL bundle, its stylesheet and its editor workers. */
export const graphiqlAssetRoutes = new Hono().get(`${GRAPHIQL_ASSETS_PATH}/*`, async (c) => {
  const file = c.req.path.slice(GRAPHIQL_ASSETS_PATH.length + 1)
  const type = Object.hasOwn(assets, file) ? assets[file] : undefined
  if (!type) return c.notFound()
  const body = await fs.readFile(path.join(packageDir, 'dist', file))
  return c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable' })
})


/** Ready-made operations for the marketplace's everyday tasks, one GraphiQL tab each. */
export const exampleOperations: { title: string; query: string; variables?: Record<string, unknown> }[] = [
  {
    title: 'Start a checkout',
    query: `# Start a checkout: the buyer approves at redirectUrl, then comes back to /payments/finish.
# Enter your API token above, fill in the Variables below, then press the run button (Ctrl-Enter).
mutation StartCheckout($input: StartCheckoutInput!) {
  startCheckout(input: $input) {
    __typename
    ... on StartCheckoutPayload {
      redirectUrl
      payment { pendingId state status amount { value assetCode assetScale } }
      quote { debitAmount { value assetCode assetScale } expiresAt }
    }
    ... on Error { code message }
  }
}`,
    variables: {
      input: { offerId: 'job-1', sellerId: 'default-seller', buyerWalletAddressUrl: 'https://wallet.example/buyer', amount: '1999' },
    },
  },
  {
    title: 'Read a payment',
    query: `# Read one payment by the pendingId startCheckout answered.
query ReadPayment($pendingId: String!) {
  payment(pendingId: $pendingId) {
    pendingId
    offerId
    state
    status
    amount { value assetCode assetScale }
    failure { code message }
    settlement { receivedAmount { value assetCode assetScale } lastCheckedAt nextCheckAt }
    createdAt
    finishedAt
  }
}`,
    variables: { pendingId: 'PASTE_A_PENDING_ID' },
  },
  {
    title: "List an offer's payments",
    query: `# Every payment made for one offer (job), newest first.
query OfferPayments($offerId: String!) {
  offer(offerId: $offerId) {
    offerId
    payments(first: 20) {
      edges { node { pendingId state status amount { value assetCode assetScale } createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`,
    variables: { offerId: 'job-1' },
  },
  {
    title: 'Webhook events',
    query: `# The webhook events sent to the marketplace, newest first, with their delivery state.
query WebhookEvents {
  webhookEvents(first: 20) {
    edges { node { eventId pendingId type status attempts lastStatusCode lastError createdAt deliveredAt } }
    pageInfo { hasNextPage endCursor }
  }
}`,
  },
  {
    title: 'Watch a payment',
    query: `# Follow a payment live (server-sent events): every state it enters, until a final one.
subscription WatchPayment($pendingId: String!) {
  paymentUpdated(pendingId: $pendingId) {
    pendingId
    state
    status
    failure { code message }
  }
}`,
    variables: { pendingId: 'PASTE_A_PENDING_ID' },
  },
]

const escapeForScript = (json: string) => json.replace(/</g, '\\u003c')

/** The GraphiQL page: the only place that produces its HTML. */
export function renderGraphiQLPage(options: { title?: string; examples?: typeof exampleOperations } = {}): string {
  const title = options.title ?? 'Payments API'
  const tabs = (options.examples ?? exampleOperations).map((example) => ({
    query: example.query,
    variables: example.variables ? JSON.stringify(example.variables, null, 2) : undefined,
  }))
  const graphiqlOptions = {
    title,
    endpoint: '/graphql',
    defaultEditorToolsVisibility: 'variables',
    // The first tab opens; the others are one click away.
    query: tabs[0]?.query,
    variables: tabs[0]?.variables,
    defaultTabs: tabs,
  }
  const asset = (file: string) => `${GRAPHIQL_ASSETS_PATH}/${file}`
  const workers = {
    editorWorkerService: asset('monacoeditorwork/editor.worker.bundle.js'),
    json: asset('monacoeditorwork/json.worker.bundle.js'),
    graphql: asset('monacoeditorwork/graphql.worker..bundle.js'),
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[&<>"']/g, '')} · GraphiQL</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="${asset('graphiql.css')}">
<style>
html,body{height:100%;margin:0}
body{display:flex;flex-direction:column;font-family:system-ui,sans-serif}
#root{flex:1;min-height:0}
.token-bar{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;padding:.5rem 1rem;background:#f3f4f6;border-bottom:1px solid #e5e7eb;font-size:14px;color:#374151}
.token-bar input{flex:1;min-width:12rem;max-width:28rem;padding:.35rem .5rem;border:1px solid #d1d5db;border-radius:6px;font:inherit}
.token-bar button{padding:.35rem .9rem;border:0;border-radius:6px;background:#166534;color:#fff;font:inherit;cursor:pointer}
.token-bar .state{color:#6b7280}
</style>
</head><body class="no-focus-outline">
<form class="token-bar" id="token-form" autocomplete="off">
  <label for="api-token">API token</label>
  <input id="api-token" name="token" type="password" placeholder="Bearer token for every operation and the docs">
  <button type="submit">Use token</button>
  <span class="state" id="token-state"></span>
</form>
<noscript>GraphiQL needs JavaScript. The API itself answers POST /graphql with a bearer token.</noscript>
<div id="root">Loading GraphiQL…</div>
<script>
const workerUrls = ${escapeForScript(JSON.stringify(workers))}
self.MonacoEnvironment = { globalAPI: false, getWorker: (_id, label) => new Worker(workerUrls[label] ?? workerUrls.editorWorkerService) }
// One token for every tab and for the schema the docs read; kept for this browser tab only.
const token = sessionStorage.getItem('payments-api-token')
document.getElementById('token-state').textContent = token ? 'Using the token you entered.' : 'No token yet: operations and the docs answer 401.'
document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const value = new FormData(event.target).get('token').trim().replace(/^Bearer\\s+/i, '')
  if (value) sessionStorage.setItem('payments-api-token', value)
  else sessionStorage.removeItem('payments-api-token')
  location.reload()
})
</script>
<script src="${asset('yoga-graphiql.umd.js')}"></script>
<script>
YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), {
  ...${escapeForScript(JSON.stringify(graphiqlOptions))},
  additionalHeaders: token ? { Authorization: 'Bearer ' + token } : {},
})
</script>
</body></html>`
}
