// The buyer's interactive outgoing-payment grant (GNAP): request it, continue it once the buyer
// approved, cancel it when the buyer never answered.
import type { AuthenticatedClient, Quote, WalletAddress } from '@interledger/open-payments'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { accessTokenOf, type AccessToken } from './access-tokens.js'
import { callWallet, type WalletFailure } from './outcomes.js'
import { loadSdk } from './sdk.js'
import { checkWalletAddressUrl, isApprovalUrl } from './wallet-address-url.js'

export interface PendingGrant {
  /** Where the buyer approves (interact.redirect). */
  redirectUrl: string
  continueUri: string
  continueToken: string
  continueWaitSeconds: number
  /** The wallet's interact.finish nonce, for the finish hash. */
  finishNonce: string
}

export type GrantRequested = { outcome: 'pending'; grant: PendingGrant } | WalletFailure

/**
 * Asks the buyer's wallet for an interactive grant to pay `quote.debitAmount` to `receiver` (least
 * privilege: that receiver, that amount), finishing by a redirect to `finishUri` with `clientNonce`.
 */
export async function requestOutgoingPaymentGrant(
  deps: Deps,
  client: AuthenticatedClient,
  args: { buyerWallet: WalletAddress; quote: Quote; receiver: string; finishUri: string; clientNonce: string },
): Promise<GrantRequested> {
  const step = 'requesting the outgoing-payment grant from the buyer wallet'
  const requested = await callWallet(deps, step, () =>
    client.grant.request(
      { url: args.buyerWallet.authServer },
      {
        access_token: {
          access: [
            {
              type: 'outgoing-payment',
              // `list` lets crash recovery find an outgoing payment already made under this grant.
              actions: ['create', 'read', 'list'],
              identifier: args.buyerWallet.id,
              limits: { debitAmount: args.quote.debitAmount, receiver: args.receiver },
            },
          ],
        },
        interact: { start: ['redirect'], finish: { method: 'redirect', uri: args.finishUri, nonce: args.clientNonce } },
      },
    ),
  )
  if (requested.outcome !== 'answered') return requested
  const grant = requested.value
  if (!(await loadSdk()).isPendingGrant(grant)) {
    return { outcome: 'refused', error: new AppError('WALLET_REFUSED', 'The buyer wallet granted an outgoing payment without asking the buyer', { step }) }
  }
  try {
    checkWalletAddressUrl(grant.continue.uri, deps.config.openPayments, 'the grant continue uri')
  } catch (error) {
    if (error instanceof AppError) return { outcome: 'refused', error }
    throw error
  }
  // The buyer's browser is sent to interact.redirect, and the marketplace may render it as a link:
  // the buyer's wallet chose it, so it must be a plain web address (never javascript:, data: …).
  if (!isApprovalUrl(grant.interact.redirect, deps.config.openPayments)) {
    return { outcome: 'refused', error: new AppError('WALLET_REFUSED', 'The buyer wallet answered an approval link that is not an https URL', { step }) }
  }
  return {
    outcome: 'pending',
    grant: {
      redirectUrl: grant.interact.redirect,
      continueUri: grant.continue.uri,
      continueToken: grant.continue.access_token.value,
      continueWaitSeconds: grant.continue.wait ?? 0,
      finishNonce: grant.interact.finish,
    },
  }
}

export type GrantContinued = { outcome: 'continued'; accessToken: AccessToken } | { outcome: 'notApproved' } | WalletFailure

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const TOO_FAST_RETRIES = 3

/**
 * Continues an approved grant with the buyer's `interactRef`, once: continuation is single use.
 * Waits out the wallet's `wait` (`waitSeconds`, counted from `requestedAt`) and answers `too_fast`
 * with patience. A refusal of the service's own signature (`invalid_client`) is not the grant's
 * fault: unavailable, not refused.
 */
export async function continueGrant(
  deps: Deps,
  client: AuthenticatedClient,
  args: { continueUri: string; continueToken: string; interactRef: string; requestedAt: Date; waitSeconds: number },
): Promise<GrantContinued> {
  // What is left of the wait on the service's clock, and never more than the whole wait: a clock
  // that lags or jumps back must not make this sleep (for real) any longer. A clock moved forward
  // makes it continue too early: the wallet answers too_fast, and the retries below wait.
  const waitMs = Math.min(args.waitSeconds * 1000, args.requestedAt.getTime() + args.waitSeconds * 1000 - deps.clock.now().getTime())
  if (waitMs > 0) await sleep(waitMs)
  const step = 'continuing the outgoing-payment grant'
  for (let attempt = 1; ; attempt++) {
    const continued = await callWallet(deps, step, () =>
      client.grant.continue({ url: args.continueUri, accessToken: args.continueToken }, { interact_ref: args.interactRef }),
    )
    if (continued.outcome === 'refused' && continued.walletCode === 'too_fast' && attempt <= TOO_FAST_RETRIES) {
      await sleep(1000 * attempt)
      continue
    }
    if (continued.outcome === 'refused' && continued.walletCode === 'invalid_client') return { ...continued, outcome: 'unavailable' }
    if (continued.outcome !== 'answered') return continued
    const grant = continued.value
    if (!('access_token' in grant) || !grant.access_token) return { outcome: 'notApproved' }
    return { outcome: 'continued', accessToken: accessTokenOf(deps, grant.access_token) }
  }
}

export type GrantCancelled = { outcome: 'cancelled' } | { outcome: 'alreadyGone' } | WalletFailure

/**
 * Revokes a grant that is no longer wanted (GNAP: DELETE the continue URI). `alreadyGone`: the
 * wallet has nothing left to cancel (404, already revoked; or invalid_continuation, it no longer
 * takes this continuation).
 */
export async function cancelGrant(deps: Deps, client: AuthenticatedClient, args: { continueUri: string; continueToken: string }): Promise<GrantCancelled> {
  const cancelled = await callWallet(deps, 'cancelling the grant', () => client.grant.cancel({ url: args.continueUri, accessToken: args.continueToken }))
  if (cancelled.outcome === 'answered') return { outcome: 'cancelled' }
  if (cancelled.outcome === 'refused' && (cancelled.walletStatus === 404 || cancelled.walletCode === 'invalid_continuation')) return { outcome: 'alreadyGone' }
  return cancelled
}
