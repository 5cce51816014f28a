// A subscriber to `paymentUpdated` over real HTTP (server-sent events), as the marketplace or the
// finish page would be: for the subscription tests of one process and of several.
import { API_TOKEN } from '../harness.js'

const SUBSCRIPTION = `subscription ($pendingId: String!) {
  paymentUpdated(pendingId: $pendingId) { pendingId state status failure { code } }
}`

export interface PaymentSubscriber {
  res: Response
  /** Every `next` payload so far, in the order it arrived. */
  events: any[]
  /** The states received so far, in order. */
  states(): string[]
  /** Resolves when the server completes the stream (or refused it). */
  done: Promise<void>
}

/** Opens the subscription on the service at `serviceUrl` and collects each `next` payload until the server completes the stream. */
export async function subscribeToPayment(serviceUrl: string, pendingId: string, token: string | null = API_TOKEN): Promise<PaymentSubscriber> {
  const res = await fetch(`${serviceUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: SUBSCRIPTION, variables: { pendingId } }),
  })
  const events: any[] = []
  const done = (async () => {
    if (!res.ok || !res.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    const reader = res.body.getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event === 'next' && data) events.push(JSON.parse(data))
        if (event === 'complete') return
      }
    }
  })()
  return { res, events, states: () => events.map((e) => e.data?.paymentUpdated?.state), done }
}
