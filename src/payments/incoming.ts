// POST /api/payments/incoming: an incoming payment on a seller's wallet outside a checkout
// (the marketplace's pre-approved escrow funding), and the wallet profile lookup.
import crypto from 'node:crypto'
import { ulid } from 'ulid'
import { z } from 'zod'
import { config } from '../config.js'
import { db, Prisma } from '../db.js'
import { AppError } from '../errors.js'
import { getSellerClient } from '../open-payments/clients.js'
import { createIncomingPayment as createSellerIncomingPayment } from '../open-payments/resources.js'
import { getWalletAddress } from '../open-payments/wallets.js'
import { requireSeller } from '../sellers/service.js'
import { Identifier, parseInput } from '../validation.js'
import { parseAmount } from './amount.js'

export const CreateIncomingPaymentInput = z.object({
  amount: z.unknown(),
  description: z.string().max(500).optional(),
  sellerId: Identifier.optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
})
export type CreateIncomingPaymentInput = z.input<typeof CreateIncomingPaymentInput>

export async function createIncomingPayment(rawInput: unknown) {
  const input = parseInput(CreateIncomingPaymentInput, rawInput)
  const amount = parseAmount(input.amount)
  const seller = await requireSeller(input.sellerId ?? config.sellerId)
  const print = crypto.createHash('sha256').update(JSON.stringify([seller.id, amount.toString(), input.description ?? null])).digest('hex')
  const replay = async () => {
    const existing = await db.incomingPayment.findUnique({ where: { idempotencyKey: input.idempotencyKey! } })
    if (existing && existing.requestFingerprint !== print) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request', { idempotencyKey: input.idempotencyKey })
    }
    return existing
  }
  if (input.idempotencyKey) {
    const existing = await replay()
    if (existing) return existing
  }

  const client = await getSellerClient(seller)
  const wallet = await getWalletAddress(client, seller.walletAddressUrl, 'seller walletAddressUrl')
  const id = ulid()
  const incoming = await createSellerIncomingPayment(client, seller.id, wallet, amount, { description: input.description ?? null, externalRef: id })
  try {
    return await db.incomingPayment.create({
      data: {
        id,
        sellerId: seller.id,
        incomingPaymentId: incoming.id,
        walletAddress: wallet.id,
        amount: amount.toString(),
        assetCode: wallet.assetCode,
        assetScale: wallet.assetScale,
        description: input.description,
        idempotencyKey: input.idempotencyKey,
        requestFingerprint: print,
      },
    })
  } catch (error) {
    // Two concurrent requests with one key: the first one recorded wins.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return (await replay())!
    throw error
  }
}

export const WalletProfileInput = z.object({ walletAddressUrl: z.string().min(1).max(2048) })

/** The public profile of any wallet address, read with the default seller's client. */
export async function getWalletProfile(rawInput: unknown) {
  const input = parseInput(WalletProfileInput, rawInput)
  const seller = await requireSeller(config.sellerId)
  const wallet = await getWalletAddress(await getSellerClient(seller), input.walletAddressUrl, 'walletAddressUrl')
  return { id: wallet.id, assetCode: wallet.assetCode, assetScale: wallet.assetScale, authServer: wallet.authServer, resourceServer: wallet.resourceServer }
}
