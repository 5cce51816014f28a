// POST /api/payments/incoming: an incoming payment on a seller's wallet outside a checkout
// (the marketplace's pre-approved escrow funding), and the wallet profile lookup.
import { ulid } from 'ulid'
import { z } from 'zod'
import type { IncomingPayment as IncomingPaymentRecord } from '../db.js'
import type { Deps } from '../deps.js'
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
const incomingRows = ({ db }: Deps): IdempotentRows<IncomingPaymentRecord> => ({
  find: (key) => db.prisma.incomingPayment.findUnique({ where: { idempotencyKey: key } }),
  isDone: (row) => row.incomingPaymentId !== null,
  fingerprintOf: (row) => row.requestFingerprint,
  forgetUnfinished: (key, before) => db.prisma.incomingPayment.deleteMany({ where: { idempotencyKey: key, incomingPaymentId: null, createdAt: { lt: before } } }),
})

export async function createIncomingPayment(deps: Deps, rawInput: unknown): Promise<IncomingPaymentRecord & { incomingPaymentId: string }> {
  const { prisma } = deps.db
  const input = parseInput(CreateIncomingPaymentInput, rawInput)
  const amount = parseAmount(input.amount)
  const seller = await requireSeller(deps, input.sellerId ?? deps.config.sellerId)
  const print = fingerprintOf([seller.id, amount.toString(), input.description ?? null])
  const done = (row: IncomingPaymentRecord) => row as IncomingPaymentRecord & { incomingPaymentId: string }
  const rows = incomingRows(deps)
  const replay = input.idempotencyKey && (await findReplay(deps, input.idempotencyKey, print, rows))
  if (replay) return done(replay)

  const client = await deps.wallets.sellerClient(seller)
  const read = await readWalletAddress(deps, client, seller.walletAddressUrl, 'seller walletAddressUrl')
  if (read.outcome !== 'found') throw read.error
  const { wallet } = read
  // The row (and its idempotency key) comes first: a concurrent retry waits for this request
  // instead of creating a second incoming payment at the wallet.
  const id = ulid()
  const claim = await claimIdempotencyKey(deps, input.idempotencyKey, print, rows, () =>
    prisma.incomingPayment.create({
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
        // On the service's clock, as findReplay's abandoned-row cut-off compares it.
        createdAt: deps.clock.now(),
      },
    }),
  )
  if (claim.outcome === 'replayed') return done(claim.row)

  const created = await createSellerIncomingPayment(deps, client, seller.id, wallet, amount, { description: input.description ?? null, externalRef: id })
  if (created.outcome !== 'created') {
    await prisma.incomingPayment.delete({ where: { id } })
    throw created.error
  }
  return done(await prisma.incomingPayment.update({ where: { id }, data: { incomingPaymentId: created.incomingPayment.id } }))
}

export const WalletProfileInput = z.object({ walletAddressUrl: z.string().min(1).max(2048) })

/** The public profile of any wallet address, read with the default seller's client. */
export async function getWalletProfile(deps: Deps, rawInput: unknown) {
  const input = parseInput(WalletProfileInput, rawInput)
  const seller = await requireSeller(deps, deps.config.sellerId)
  const read = await readWalletAddress(deps, await deps.wallets.sellerClient(seller), input.walletAddressUrl, 'walletAddressUrl')
  if (read.outcome !== 'found') throw read.error
  const { wallet } = read
  return { id: wallet.id, assetCode: wallet.assetCode, assetScale: wallet.assetScale, authServer: wallet.authServer, resourceServer: wallet.resourceServer }
}
