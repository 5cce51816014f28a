// Standard Webhooks signing (https://www.standardwebhooks.com): every delivery carries
// webhook-id, webhook-timestamp and webhook-signature. During a secret rotation several secrets are
// configured and the header carries one `v1,<base64>` signature per secret, space-separated, so a
// receiver holding either the old or the new secret accepts the delivery.
import { Webhook } from 'standardwebhooks'

// A type alias, not an interface, so that it passes as a plain header record (fetch, Record<string, string>).
export type WebhookHeaders = {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature'?: string
}

export type WebhookSigner = (msgId: string, sentAt: Date, payload: string) => WebhookHeaders

/** Returns a signer for the given whsec_ secrets; with none, the headers carry no signature. */
export function createWebhookSigner(secrets: readonly string[]): WebhookSigner {
  const webhooks = secrets.map((secret) => new Webhook(secret))
  return (msgId, sentAt, payload) => {
    const headers: WebhookHeaders = {
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    }
    if (webhooks.length > 0) {
      headers['webhook-signature'] = webhooks.map((webhook) => webhook.sign(msgId, sentAt, payload)).join(' ')
    }
    return headers
  }
}
