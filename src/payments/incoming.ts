// POST /api/payments/incoming: an incoming payment on a seller's wallet outside a checkout
// (the marketplace's pre-approved escrow funding), and the wallet profile lookup.
import { ulid } from 'ulid'
import { z } from 'zod'
import { config } from '../config.js'
import { db } from '../db.js'
import type { IncomingPayment as IncomingPaymentRecord } from '../db.js'
import { getSellerClient } from '../open-payments/clients.js'
import { createIncomingPayment as createSellerIncomingPayment } from '../open-payments/incoming-payments.js'
import { readWalletAddress } from '../open-payments/wallet-addresses.js'
import { requireSeller } from '../sellers/service.js'
import { Identifier, parseInput } from '../validation.js'
import { parseAmount } from './amount.js'
import { claimIdempotencyKey, findReplay, fingerprintOf, type IdempotentRows } from './idempotency.js'

export const CreateIncomingPaymentInput = z.object({
  amount: z.unknown(),
  description: z.string().max(500).optional(),
  sellerId: Identifier.optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
})
export type CreateIncomingPaymentInput = z.input<typeof CreateIncomingPaymentInput>

/** An IncomingPayment row is the idempotency record of its request; the wallet's id marks it done. */
const incomingRows: IdempotentRows<IncomingPaymentRecord> = {
  find: (key) => db.incomingPayment.findUnique({ where: { idempotencyKey: key } }),
  isDone: (row) => row.incomingPaymentId !== null,
  fingerprintOf: (row) => row.requestFingerprint,
  forgetUnfinished: (key, before) => db.incomingPayment.deleteMany({ where: { idempotencyKey: key, incomingPaymentId: null, createdAt: { lt: before } } }),
}

export async function createIncomingPayment(rawInput: unknown): Promise<IncomingPaymentRecord & { incomingPaymentId: string }> {
  const input = parseInput(CreateIncomingPaymentInput, rawInput)
  const amount = parseAmount(input.amount)
  const seller = await requireSeller(input.sellerId ?? config.sellerId)
  const print = fingerprintOf([seller.id, amount.toString(), input.description ?? null])
  const done = (row: IncomingPaymentRecord) => row as IncomingPaymentRecord & { incomingPaymentId: string }
  const replay = input.idempotencyKey && (await findReplay(input.idempotencyKey, print, incomingRows))
  if (replay) return done(replay)

  const client = await getSellerClient(seller)
  const read = await readWalletAddress(client, seller.walletAddressUrl, 'seller walletAddressUrl')
  if (read.outcome !== 'found') throw read.error
  const { wallet } = read
  // The row (and its idempotency key) comes first: a concurrent retry waits for this request
  // instead of creating a second incoming payment at the wallet.
  const id = ulid()
  const claim = await claimIdempotencyKey(input.idempotencyKey, print, incomingRows, () =>
    db.incomingPayment.create({
      data: {
        id,
        sellerId: seller.id,
        walletAddress: wallet.id,
        amount: amount.toString(),
        assetCode: wallet.assetCode,
        assetScale: wallet.assetScale,
        description: input.description,
        idempotencyKey: input.idempotencyKey,
        requestFingerprint: print,
      },
    }),
  )
  if (claim.outcome === 'replayed') return done(claim.row)

  const created = await createSellerIncomingPayment(client, seller.id, wallet, amount, { description: input.description ?? null, externalRef: id })
  if (created.outcome !== 'created') {
    await db.incomingPayment.delete({ where: { id } })
    throw created.error
  }
  return done(await db.incomingPayment.update({ where: { id }, data: { incomingPaymentId: created.incomingPayment.id } }))
}

export const WalletProfileInput = z.object({ walletAddressUrl: z.string().min(1).max(2048) })

/** The public profile of any wallet address, read with the default seller's client. */
export async function getWalletProfile(rawInput: unknown) {
  const input = parseInput(WalletProfileInput, rawInput)
  const seller = await requireSeller(config.sellerId)
  const read = await readWalletAddress(await getSellerClient(seller), input.walletAddressUrl, 'walletAddressUrl')
  if (read.outcome !== 'found') throw read.error
  const { wallet } = read
  return { id: wallet.id, assetCode: wallet.assetCode, assetScale: wallet.assetScale, authServer: wallet.authServer, resourceServer: wallet.resourceServer }
}
