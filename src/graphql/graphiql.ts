// The GraphiQL page: static HTML that executes nothing on the server. app.ts serves it to browsers
// without a token; the operations it sends are requests like any other (they need the token, which
// the page's headers editor adds). This is the only place that produces the page's HTML.
import { renderGraphiQL } from 'graphql-yoga'

let page: string | undefined

export function renderGraphiQLPage(): string {
  page ??= renderGraphiQL({ title: 'Payments service', endpoint: '/graphql', defaultEditorToolsVisibility: 'headers' })
  return page
}
