import { randomBytes, randomUUID } from 'node:crypto'
import { Hono, type Context } from 'hono'
import { z } from 'zod'
import type { JWK } from '@interledger/http-signature-utils'
import type { AccessItem, Grant, SandboxContext } from './context.js'
import { answer, SandboxError } from './errors.js'
import { parseJsonBody, verifyRequestSignature } from './signatures.js'
import { createOpaqueValue, describeAccessToken, issueAccessToken, readGnapToken, revokeGrantTokens } from './tokens.js'
import { buildInteractRedirect } from './consent.js'

const amountSchema = z.object({
  value: z.string().regex(/^\d{1,20}$/),
  assetCode: z.string().min(1),
  assetScale: z.number().int().min(0).max(255),
})

const accessItemSchema = z.object({
  type: z.enum(['incoming-payment', 'outgoing-payment', 'quote']),
  actions: z.array(z.enum(['create', 'read', 'read-all', 'list', 'list-all', 'complete'])).min(1),
  identifier: z.string().url().optional(),
  limits: z
    .object({
      receiver: z.string().url().optional(),
      interval: z.string().optional(),
      debitAmount: amountSchema.optional(),
      receiveAmount: amountSchema.optional(),
    })
    .optional(),
})

const jwkSchema = z.object({
  kid: z.string(),
  alg: z.literal('EdDSA'),
  use: z.literal('sig').optional(),
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string(),
})

const grantRequestSchema = z.object({
  access_token: z.object({ access: z.array(accessItemSchema).min(1).max(3) }),
  client: z.union([z.string().url(), z.object({ walletAddress: z.string().url() }), z.object({ jwk: jwkSchema })]),
  interact: z
    .object({
      start: z.array(z.string()),
      finish: z.object({ method: z.literal('redirect'), uri: z.string().url(), nonce: z.string().min(1) }).optional(),
    })
    .optional(),
})

interface ClientIdentity {
  clientWallet?: string
  clientJwk?: JWK
  keys: JWK[]
}

export function createAuthRoutes(ctx: SandboxContext): Hono {
  const app = new Hono()

  app.post('/', (c) => answer(c, () => requestGrant(ctx, c)))
  app.post('/continue/:id', (c) => answer(c, () => continueGrant(ctx, c)))
  app.delete('/continue/:id', (c) => answer(c, () => cancelGrant(ctx, c)))
  app.post('/token/:id', (c) => answer(c, () => rotateToken(ctx, c)))
  app.delete('/token/:id', (c) => answer(c, () => revokeToken(ctx, c)))

  return app
}

/** The keys a grant's requests must be signed with: its client wallet's current jwks, or its JWK. */
export function grantClientKeys(ctx: SandboxContext, grant: Grant): JWK[] {
  if (grant.clientJwk) return [grant.clientJwk]
  const name = grant.clientWallet ? ctx.urls.walletNameOf(grant.clientWallet) : undefined
  return (name && ctx.state.wallets.get(name)?.keys) || []
}

function resolveClient(ctx: SandboxContext, client: z.infer<typeof grantRequestSchema>['client']): ClientIdentity {
  if (typeof client === 'object' && 'jwk' in client) {
    return { clientJwk: client.jwk as JWK, keys: [client.jwk as JWK] }
  }
  const url = typeof client === 'string' ? client : client.walletAddress
  const name = ctx.urls.walletNameOf(url)
  const wallet = name ? ctx.state.wallets.get(name) : undefined
  // Only wallets hosted here can be clients: the sandbox never fetches keys from the network.
  if (!wallet) throw new SandboxError(400, 'invalid_client', 'could not determine client')
  return { clientWallet: ctx.urls.walletAddress(wallet.name), keys: wallet.keys }
}

async function requestGrant(ctx: SandboxContext, c: Context): Promise<Response> {
  const text = await c.req.text()
  const parsed = grantRequestSchema.safeParse(parseJsonBody(text))
  if (!parsed.success) throw new SandboxError(400, 'invalid_request', 'invalid grant request')
  const request = parsed.data
  const client = resolveClient(ctx, request.client)
  await verifyRequestSignature(c, client.keys)

  const access = request.access_token.access as AccessItem[]
  for (const item of access) {
    if (item.type !== 'outgoing-payment') continue
    const name = item.identifier ? ctx.urls.walletNameOf(item.identifier) : undefined
    if (!name || !ctx.state.wallets.has(name)) {
      throw new SandboxError(400, 'invalid_request', 'outgoing-payment identifier is not a wallet address of this server')
    }
  }
  const needsInteraction = access.some((item) => item.type === 'outgoing-payment')
  const { config, state, urls } = ctx
  const grant: Grant = {
    id: randomUUID(),
    clientWallet: client.clientWallet,
    clientJwk: client.clientJwk,
    access,
    state: needsInteraction ? 'pending' : 'finalized',
    continueId: randomUUID(),
    continueToken: createOpaqueValue(),
    createdAt: config.now(),
    spentDebit: 0n,
    spentReceive: 0n,
  }
  const continueUri = `${urls.authServer}/continue/${grant.continueId}`

  if (!needsInteraction) {
    state.grants.set(grant.id, grant)
    state.grantsByContinueId.set(grant.continueId, grant)
    const token = issueAccessToken(ctx, grant)
    return c.json({
      access_token: describeAccessToken(ctx, token, grant),
      continue: { access_token: { value: grant.continueToken }, uri: continueUri },
    })
  }

  const finish = request.interact?.finish
  if (!request.interact?.start.includes('redirect') || !finish) {
    throw new SandboxError(400, 'invalid_request', 'outgoing-payment grants require interact.start redirect and interact.finish')
  }
  if (client.clientJwk) {
    throw new SandboxError(400, 'invalid_request', 'a directed identity (jwk) cannot request an interactive grant')
  }
  grant.interaction = {
    id: randomUUID(),
    nonce: randomBytes(8).toString('hex').toUpperCase(),
    clientNonce: finish.nonce,
    finishUri: finish.uri,
    createdAt: config.now(),
  }
  state.grants.set(grant.id, grant)
  state.grantsByContinueId.set(grant.continueId, grant)
  state.interactions.set(grant.interaction.id, grant)
  return c.json({
    interact: { redirect: buildInteractRedirect(ctx, grant), finish: grant.interaction.nonce },
    continue: {
      access_token: { value: grant.continueToken },
      uri: continueUri,
      wait: config.continueWaitSeconds,
    },
  })
}

/** Finds the grant behind a continuation URI and its token, then checks the client's signature. */
async function authorizeContinuation(ctx: SandboxContext, c: Context): Promise<{ grant: Grant; body?: string }> {
  const grant = ctx.state.grantsByContinueId.get(c.req.param('id') ?? '')
  const token = readGnapToken(c.req.header('authorization'))
  if (!grant || token !== grant.continueToken) {
    throw new SandboxError(404, 'invalid_continuation', 'grant not found')
  }
  const body = await verifyRequestSignature(c, grantClientKeys(ctx, grant))
  return { grant, body }
}

async function continueGrant(ctx: SandboxContext, c: Context): Promise<Response> {
  const { grant, body } = await authorizeContinuation(ctx, c)
  // Continuation is single use: a finalized, rejected or revoked grant is gone for the client.
  if (grant.state !== 'pending' && grant.state !== 'approved') {
    throw new SandboxError(404, 'invalid_continuation', 'grant not found')
  }
  const waitMs = ctx.config.continueWaitSeconds * 1000
  if (ctx.config.now().getTime() - grant.createdAt.getTime() < waitMs) {
    throw new SandboxError(400, 'too_fast', 'continued grant faster than "wait" period')
  }
  const interactRef = parseJsonBody(body).interact_ref
  if (typeof interactRef !== 'string') {
    throw new SandboxError(401, 'request_denied', 'grant interaction is not finished')
  }
  if (grant.state !== 'approved' || interactRef !== grant.interaction?.interactRef) {
    throw new SandboxError(404, 'invalid_continuation', 'grant not found')
  }
  grant.state = 'finalized'
  ctx.state.continuations += 1
  const token = issueAccessToken(ctx, grant)
  return c.json({
    access_token: describeAccessToken(ctx, token, grant),
    continue: {
      access_token: { value: grant.continueToken },
      uri: `${ctx.urls.authServer}/continue/${grant.continueId}`,
    },
  })
}

async function cancelGrant(ctx: SandboxContext, c: Context): Promise<Response> {
  const { grant } = await authorizeContinuation(ctx, c)
  if (grant.state === 'revoked') throw new SandboxError(404, 'invalid_request', 'grant not found')
  grant.state = 'revoked'
  revokeGrantTokens(ctx, grant)
  return c.body(null, 204)
}

const finalizationReasonOf: Partial<Record<Grant['state'], string>> = { finalized: 'ISSUED', rejected: 'REJECTED', revoked: 'REVOKED' }

/** A grant as the wallet's back office sees it: finalized (Rafiki's word) once issued, rejected or revoked. */
export function describeGrantStatus(ctx: SandboxContext, grant: Grant) {
  const finalizationReason = finalizationReasonOf[grant.state] ?? null
  return {
    id: grant.id,
    continueUri: `${ctx.urls.authServer}/continue/${grant.continueId}`,
    access: grant.access.map((item) => item.type),
    state: grant.state,
    finalized: finalizationReason !== null,
    finalizationReason,
  }
}

/** Finds a token by its manage URI and value; expired tokens still rotate (that is what manage is for). */
async function authorizeManagement(ctx: SandboxContext, c: Context) {
  const token = ctx.state.tokensByManageId.get(c.req.param('id') ?? '')
  const value = readGnapToken(c.req.header('authorization'))
  const grant = token ? ctx.state.grants.get(token.grantId) : undefined
  if (!token || !grant || token.value !== value || token.revoked || grant.state !== 'finalized') {
    return undefined
  }
  await verifyRequestSignature(c, grantClientKeys(ctx, grant))
  return { token, grant }
}

async function rotateToken(ctx: SandboxContext, c: Context): Promise<Response> {
  const found = await authorizeManagement(ctx, c)
  if (!found) throw new SandboxError(404, 'invalid_rotation', 'token not found')
  found.token.revoked = true
  const next = issueAccessToken(ctx, found.grant)
  return c.json({ access_token: describeAccessToken(ctx, next, found.grant) })
}

async function revokeToken(ctx: SandboxContext, c: Context): Promise<Response> {
  const found = await authorizeManagement(ctx, c)
  // Revoking what is already gone is not an error (GNAP: the token is unusable either way).
  if (found) found.token.revoked = true
  return c.body(null, 204)
}
