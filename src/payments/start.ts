// Starting a checkout: the buyer funds a job. Creates, in order, an incoming payment on the
// seller's wallet, a quote on the buyer's wallet and an interactive outgoing-payment grant, and
// returns the wallet URL the buyer must visit to approve.
import crypto from 'node:crypto'
import { isPendingGrant } from '@interledger/open-payments'
import { monotonicFactory } from 'ulid'
import { z } from 'zod'
import { config } from '../config.js'
import { db, Prisma, type Payment } from '../db.js'
import { AppError } from '../errors.js'
import { logger } from '../logger.js'
import { getSellerClient } from '../open-payments/clients.js'
import { toWalletError } from '../open-payments/errors.js'
import { createIncomingPayment, createQuote } from '../open-payments/resources.js'
import { checkWalletAddressUrl } from '../open-payments/wallet-address-url.js'
import { getWalletAddress } from '../open-payments/wallets.js'
import { encryptSecret } from '../secrets.js'
import { requireSeller } from '../sellers/service.js'
import { Identifier, parseInput } from '../validation.js'
import { parseAmount } from './amount.js'
import { transitionPayment } from './transitions.js'

export const newPaymentId = monotonicFactory()

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
  return crypto.createHash('sha256').update(JSON.stringify([offerId, sellerId, buyerWalletAddressUrl, amount, returnUrl ?? null])).digest('hex')
}

/** A retried start with the same idempotency key: the same payment, or 422 if the parameters differ. */
async function replayIdempotentStart(key: string, print: string): Promise<Payment> {
  const existing = await db.payment.findUnique({ where: { idempotencyKey: key } })
  if (!existing) throw new AppError('INTERNAL', 'Idempotency record vanished')
  if (existing.requestFingerprint !== print) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request', { idempotencyKey: key })
  }
  if (!existing.redirectUrl) {
    throw new AppError('PAYMENT_NOT_FINISHABLE', 'The first request with this Idempotency-Key is still being processed; retry shortly', {
      pendingId: existing.id,
    })
  }
  return existing
}

/** A start that died half-way (its process crashed) must not hold its idempotency key forever. */
const ABANDONED_START_MS = 2 * 60_000

async function forgetAbandonedStart(key: string): Promise<void> {
  await db.payment.deleteMany({
    where: { idempotencyKey: key, redirectUrl: null, createdAt: { lt: new Date(Date.now() - ABANDONED_START_MS) } },
  })
}

export async function startCheckout(rawInput: unknown): Promise<Payment> {
  const input = parseInput(StartCheckoutInput, rawInput)
  const amount = parseAmount(input.amount)
  const print = fingerprint({ ...input, amount: amount.toString() })
  const seller = await requireSeller(input.sellerId)
  // Refuse a bad buyer wallet before doing any work (and before any request leaves the service).
  await checkWalletAddressUrl(input.buyerWalletAddressUrl, config.openPayments, 'buyerWalletAddressUrl')
  if (input.idempotencyKey) {
    await forgetAbandonedStart(input.idempotencyKey)
    const existing = await db.payment.findUnique({ where: { idempotencyKey: input.idempotencyKey }, select: { id: true } })
    if (existing) return replayIdempotentStart(input.idempotencyKey, print)
  }

  const client = await getSellerClient(seller)
  const [sellerWallet, buyerWallet] = await Promise.all([
    getWalletAddress(client, seller.walletAddressUrl, 'seller walletAddressUrl'),
    getWalletAddress(client, input.buyerWalletAddressUrl, 'buyerWalletAddressUrl'),
  ])

  // The row comes first: its unique idempotency key makes a concurrent retry wait for this one
  // instead of creating a second incoming payment, quote and grant.
  const id = newPaymentId()
  let payment: Payment
  try {
    payment = await db.payment.create({
      data: {
        id,
        offerId: input.offerId,
        sellerId: seller.id,
        buyerWalletAddressUrl: buyerWallet.id,
        amount: amount.toString(),
        assetCode: sellerWallet.assetCode,
        assetScale: sellerWallet.assetScale,
        returnUrl: input.returnUrl,
        idempotencyKey: input.idempotencyKey,
        requestFingerprint: print,
        buyerAuthServer: buyerWallet.authServer,
      },
    })
  } catch (error) {
    if (input.idempotencyKey && error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      return replayIdempotentStart(input.idempotencyKey, print)
    }
    throw error
  }

  try {
    const incoming = await createIncomingPayment(client, seller.id, sellerWallet, amount, { offerId: input.offerId, pendingId: id })
    const quote = await createQuote(client, seller.id, buyerWallet, incoming.id)

    // The client nonce proves the finish redirect came from the wallet: random, never the pendingId.
    const clientNonce = crypto.randomBytes(32).toString('hex')
    const grantRequestedAt = new Date()
    const grant = await client.grant
      .request(
        { url: buyerWallet.authServer },
        {
          access_token: {
            access: [
              {
                type: 'outgoing-payment',
                // `list` lets crash recovery find an outgoing payment already made under this grant.
                actions: ['create', 'read', 'list'],
                identifier: buyerWallet.id,
                limits: { debitAmount: quote.debitAmount, receiver: incoming.id },
              },
            ],
          },
          interact: {
            start: ['redirect'],
            finish: { method: 'redirect', uri: `${config.baseUrl}/payments/finish?pendingId=${id}`, nonce: clientNonce },
          },
        },
      )
      .catch((error) => {
        throw toWalletError(error, 'requesting the outgoing-payment grant from the buyer wallet')
      })
    if (isPendingGrant(grant)) await checkWalletAddressUrl(grant.continue.uri, config.openPayments, 'the grant continue uri')
    if (!isPendingGrant(grant)) {
      throw new AppError('WALLET_REFUSED', 'The buyer wallet granted an outgoing payment without asking the buyer', {
        step: 'requesting the outgoing-payment grant',
      })
    }

    const ready = await transitionPayment(id, ['AWAITING_APPROVAL'], {
      // Setting the same state again records the `payment.created` event with the complete row.
      state: 'AWAITING_APPROVAL',
      incomingPaymentId: incoming.id,
      incomingPaymentExpiresAt: new Date(incoming.expiresAt ?? Date.now() + config.openPayments.incomingPaymentLifetimeMs),
      quoteId: quote.id,
      debitAmount: quote.debitAmount.value,
      debitAssetCode: quote.debitAmount.assetCode,
      debitAssetScale: quote.debitAmount.assetScale,
      receiveAmount: quote.receiveAmount.value,
      quoteExpiresAt: quote.expiresAt ? new Date(quote.expiresAt) : null,
      redirectUrl: grant.interact.redirect,
      continueUri: grant.continue.uri,
      continueToken: encryptSecret(grant.continue.access_token.value),
      continueWaitSeconds: grant.continue.wait ?? 0,
      grantRequestedAt,
      clientNonce: encryptSecret(clientNonce),
      finishNonce: grant.interact.finish,
    })
    if (!ready) throw new AppError('INTERNAL', 'The payment changed while it was being started')
    logger.info({ pendingId: id, offerId: input.offerId, sellerId: seller.id }, 'checkout started')
    return ready
  } catch (error) {
    // Nothing the buyer can approve exists yet: forget the row so that a retry (even with the
    // same idempotency key) starts cleanly. A created incoming payment simply expires unpaid.
    await db.payment.deleteMany({ where: { id, redirectUrl: null } })
    throw error
  }
}
