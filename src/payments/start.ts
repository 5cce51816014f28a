// Starting a checkout: the buyer funds a job. Creates, in order, an incoming payment on the
// seller's wallet, a quote on the buyer's wallet and an interactive outgoing-payment grant, and
// returns the wallet URL the buyer must visit to approve.
import crypto from 'node:crypto'
import type { AuthenticatedClient, WalletAddress } from '@interledger/open-payments'
import { ulid } from 'ulid'
import { z } from 'zod'
import type { Payment } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { requestOutgoingPaymentGrant } from '../open-payments/grants.js'
import { createIncomingPayment } from '../open-payments/incoming-payments.js'
import { createQuote } from '../open-payments/quotes.js'
import { checkWalletAddressUrl } from '../open-payments/wallet-address-url.js'
import { readWalletAddress } from '../open-payments/wallet-addresses.js'
import { requireSeller } from '../sellers/service.js'
import { Identifier, parseInput } from '../validation.js'
import { parseAmount } from './amount.js'
import { finishRedirectPath } from './finish-page.js'
import { createFinishSecret } from './finish-secret.js'
import { claimIdempotencyKey, findReplay, fingerprintOf, type IdempotentRows } from './idempotency.js'
import { createPayment, transitionPayment } from './transitions.js'

/**
 * A new pendingId. It is public (the buyer's reference) and only names the payment: a plain ulid()
 * with 80 fresh random bits, never a monotonic one, whose ids minted in the same millisecond
 * count up from each other.
 */
export const newPaymentId = (): string => ulid()

export const StartCheckoutInput = z.object({
  offerId: Identifier,
  sellerId: Identifier,
  buyerWalletAddressUrl: z.string().min(1).max(2048),
  amount: z.unknown(),
  returnUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
})
export type StartCheckoutInput = z.input<typeof StartCheckoutInput>

function fingerprint(input: Omit<z.output<typeof StartCheckoutInput>, 'idempotencyKey'>): string {
  const { offerId, sellerId, buyerWalletAddressUrl, amount, returnUrl } = input
  return fingerprintOf([offerId, sellerId, buyerWalletAddressUrl, amount, returnUrl ?? null])
}

/** A payment row is the idempotency record of a start; its redirectUrl marks it done. */
const startRows = ({ db }: Deps): IdempotentRows<Payment> => ({
  find: (key) => db.prisma.payment.findUnique({ where: { idempotencyKey: key } }),
  isDone: (payment) => payment.redirectUrl !== null,
  fingerprintOf: (payment) => payment.requestFingerprint,
  forgetUnfinished: (key, before) => db.prisma.payment.deleteMany({ where: { idempotencyKey: key, redirectUrl: null, createdAt: { lt: before } } }),
})

/** The wallet addresses of a checkout; the buyer's problems are reported first (they are the caller's to fix). */
async function readWallets(deps: Deps, client: AuthenticatedClient, sellerUrl: string, buyerUrl: string): Promise<{ seller: WalletAddress; buyer: WalletAddress }> {
  const seller = readWalletAddress(deps, client, sellerUrl, 'seller walletAddressUrl')
  seller.catch(() => {}) // awaited below, unless the buyer's problem is thrown first
  const buyer = await readWalletAddress(deps, client, buyerUrl, 'buyerWalletAddressUrl')
  if (buyer.outcome !== 'found') throw buyer.error
  const found = await seller
  if (found.outcome !== 'found') throw found.error
  return { seller: found.wallet, buyer: buyer.wallet }
}

export async function startCheckout(deps: Deps, rawInput: unknown): Promise<Payment> {
  const { config } = deps
  const { prisma } = deps.db
  const input = parseInput(StartCheckoutInput, rawInput)
  const amount = parseAmount(input.amount)
  const print = fingerprint({ ...input, amount: amount.toString() })
  const seller = await requireSeller(deps, input.sellerId)
  // Refuse a malformed buyer wallet URL before doing any work.
  checkWalletAddressUrl(input.buyerWalletAddressUrl, config.openPayments, 'buyerWalletAddressUrl')
  // A retry of a finished start is answered before any wallet is asked anything.
  const rows = startRows(deps)
  const replay = input.idempotencyKey && (await findReplay(deps, input.idempotencyKey, print, rows))
  if (replay) return replay

  const client = await deps.wallets.sellerClient(seller)
  const wallets = await readWallets(deps, client, seller.walletAddressUrl, input.buyerWalletAddressUrl)

  // The row comes first: its unique idempotency key makes a concurrent retry wait for this one
  // instead of creating a second incoming payment, quote and grant.
  const id = newPaymentId()
  const claim = await claimIdempotencyKey(deps, input.idempotencyKey, print, rows, () =>
    createPayment(deps, {
      id,
      offerId: input.offerId,
      sellerId: seller.id,
      buyerWalletAddressUrl: wallets.buyer.id,
      amount: amount.toString(),
      assetCode: wallets.seller.assetCode,
      assetScale: wallets.seller.assetScale,
      returnUrl: input.returnUrl,
      idempotencyKey: input.idempotencyKey,
      requestFingerprint: print,
      buyerAuthServer: wallets.buyer.authServer,
      // On the service's clock, as findReplay's abandoned-row cut-off compares it.
      createdAt: deps.clock.now(),
    }),
  )
  if (claim.outcome === 'replayed') return claim.row

  try {
    const incoming = await createIncomingPayment(deps, client, seller.id, wallets.seller, amount, { offerId: input.offerId, pendingId: id })
    if (incoming.outcome !== 'created') throw incoming.error
    const receiver = incoming.incomingPayment.id
    const quote = await createQuote(deps, client, seller.id, wallets.buyer, receiver)
    if (quote.outcome !== 'created') throw quote.error

    // The client nonce proves the finish redirect came from the wallet: random, never the pendingId.
    const clientNonce = crypto.randomBytes(32).toString('hex')
    const finishSecret = createFinishSecret()
    const grantRequestedAt = deps.clock.now()
    const requested = await requestOutgoingPaymentGrant(deps, client, {
      buyerWallet: wallets.buyer,
      quote: quote.quote,
      receiver,
      finishUri: `${config.baseUrl}${finishRedirectPath(id, finishSecret.secret)}`,
      clientNonce,
    })
    if (requested.outcome !== 'pending') throw requested.error
    const { grant } = requested

    const ready = await transitionPayment(deps, id, ['AWAITING_APPROVAL'], {
      // Setting the same state again records the `payment.created` event with the complete row.
      state: 'AWAITING_APPROVAL',
      incomingPaymentId: receiver,
      incomingPaymentExpiresAt: new Date(incoming.incomingPayment.expiresAt ?? deps.clock.now().getTime() + config.openPayments.incomingPaymentLifetimeMs),
      quoteId: quote.quote.id,
      debitAmount: quote.quote.debitAmount.value,
      debitAssetCode: quote.quote.debitAmount.assetCode,
      debitAssetScale: quote.quote.debitAmount.assetScale,
      receiveAmount: quote.quote.receiveAmount.value,
      quoteExpiresAt: quote.quote.expiresAt ? new Date(quote.quote.expiresAt) : null,
      redirectUrl: grant.redirectUrl,
      continueUri: grant.continueUri,
      continueToken: deps.secrets.encrypt(grant.continueToken),
      continueWaitSeconds: grant.continueWaitSeconds,
      grantRequestedAt,
      clientNonce: deps.secrets.encrypt(clientNonce),
      finishNonce: grant.finishNonce,
      finishSecretHash: finishSecret.hash,
    })
    if (!ready) throw new AppError('INTERNAL', 'The payment changed while it was being started')
    deps.logger.info({ pendingId: id, offerId: input.offerId, sellerId: seller.id }, 'checkout started')
    return ready
  } catch (error) {
    // Nothing the buyer can approve exists yet: forget the row so that a retry (even with the
    // same idempotency key) starts cleanly. A created incoming payment simply expires unpaid.
    await prisma.payment.deleteMany({ where: { id, redirectUrl: null } })
    throw error
  }
}
