import { randomBytes, randomUUID } from 'node:crypto'
import type { AccessToken, Grant, SandboxContext } from './context.js'

/** Opaque upper-case hex, the shape Rafiki uses for access and continuation tokens. */
export function createOpaqueValue(bytes = 10): string {
  return randomBytes(bytes).toString('hex').toUpperCase()
}

export function issueAccessToken(ctx: SandboxContext, grant: Grant): AccessToken {
  const { config, state } = ctx
  const token: AccessToken = {
    value: createOpaqueValue(),
    manageId: randomUUID(),
    grantId: grant.id,
    expiresAt: new Date(config.now().getTime() + config.accessTokenLifetimeSeconds * 1000),
    revoked: false,
  }
  state.tokens.set(token.value, token)
  state.tokensByManageId.set(token.manageId, token)
  return token
}

/** The `access_token` object of grant, continue and rotate answers, keys in the transcript's order. */
export function describeAccessToken(ctx: SandboxContext, token: AccessToken, grant: Grant) {
  return {
    access: grant.access,
    value: token.value,
    manage: `${ctx.urls.authServer}/token/${token.manageId}`,
    expires_in: ctx.config.accessTokenLifetimeSeconds,
  }
}

export function revokeGrantTokens(ctx: SandboxContext, grant: Grant): void {
  for (const token of ctx.state.tokens.values()) {
    if (token.grantId === grant.id) token.revoked = true
  }
}

/** Reads `Authorization: GNAP <token>`; undefined when absent or in another scheme. */
export function readGnapToken(header: string | undefined): string | undefined {
  const match = /^GNAP\s+(\S+)$/.exec(header ?? '')
  return match?.[1]
}
