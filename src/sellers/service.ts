// Sellers: the Open Payments client identities. Registration validates the key file (inside
// KEYS_DIR, Ed25519) and, unless VERIFY_SELLER_WALLET=false, that the seller's wallet publishes the
// key under keyId.
import { z } from 'zod'
import { columnList, type Seller } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import type { SellerIdentity } from '../open-payments/wallets.js'
import { checkWalletAddressUrl } from '../open-payments/wallet-address-url.js'
import { readWalletKeys } from '../open-payments/wallet-addresses.js'
import { Identifier, parseInput } from '../validation.js'
import { announceSellerChanged } from './changes.js'
import { loadPrivateKey, publicKeyX } from './keys.js'

export const SellerInput = z.object({
  id: Identifier.regex(/^[A-Za-z0-9._-]+$/, 'may contain letters, digits, dot, dash and underscore only'),
  walletAddressUrl: z.string().min(1).max(2048),
  keyId: z.string().min(1).max(256),
  privateKeyPath: z.string().min(1).max(1024),
})
export type SellerInput = z.infer<typeof SellerInput>

async function verifySellerWallet(deps: Deps, walletAddressUrl: string, keyId: string, publicX: string): Promise<void> {
  const read = await readWalletKeys(deps, walletAddressUrl, 'walletAddressUrl')
  if (read.outcome !== 'found') {
    throw new AppError('SELLER_WALLET_UNREACHABLE', `Could not read the seller wallet's keys: ${read.error.message}`, {
      ...read.error.details,
      field: 'walletAddressUrl',
    })
  }
  const keys = read
  const published = keys.keys.find((k) => k.kid === keyId)
  if (!published) {
    throw new AppError('SELLER_KEY_MISMATCH', `The seller wallet does not publish a key with keyId "${keyId}"`, {
      field: 'keyId',
    })
  }
  if (published.x !== publicX) {
    throw new AppError('SELLER_KEY_MISMATCH', `The key published under keyId "${keyId}" is not the public half of privateKeyPath`, {
      field: 'privateKeyPath',
    })
  }
}

/**
 * `verifyWallet: false` only for the embedded sandbox's seller at start-up (src/service.ts): that
 * wallet was just handed this very key in this process, and asking it costs the start-up the
 * Open Payments SDK's response validators.
 */
export async function upsertSeller(deps: Deps, rawInput: unknown, options: { verifyWallet?: boolean } = {}): Promise<{ seller: Seller; created: boolean }> {
  const { config } = deps
  const input = parseInput(SellerInput, rawInput)
  const walletAddressUrl = checkWalletAddressUrl(input.walletAddressUrl, config.openPayments, 'walletAddressUrl')
  const privateKey = loadPrivateKey(config.keysDir, input.privateKeyPath)
  if (config.verifySellerWallet && options.verifyWallet !== false) await verifySellerWallet(deps, walletAddressUrl, input.keyId, publicKeyX(privateKey))

  const data = { walletAddressUrl, keyId: input.keyId, privateKeyPath: input.privateKeyPath }
  const existing = await deps.db.prisma.seller.findUnique({ where: { id: input.id }, select: { id: true } })
  const seller = await deps.db.prisma.seller.upsert({ where: { id: input.id }, create: { id: input.id, ...data }, update: data })
  // A new key or wallet must not sign with a cached client or reuse tokens granted to the old one,
  // on any replica.
  announceSellerChanged(deps, seller)
  deps.logger.info({ sellerId: seller.id, created: !existing }, 'seller registered')
  return { seller, created: !existing }
}

/** The columns a seller's Open Payments client is made of (all text: the driver's values are Prisma's). */
const sellerIdentityColumns = ['id', 'walletAddressUrl', 'keyId', 'privateKeyPath'] as const satisfies readonly (keyof SellerIdentity)[]
const sellerIdentitySql = `SELECT ${columnList(sellerIdentityColumns)} FROM "Seller" WHERE "id" = $1`

/**
 * For a read that joins the seller to its payment (one statement instead of two): the seller's
 * identity columns of the table named `table` in that read, as "seller.<column>"; sellerIdentityOf
 * takes them back out of the row.
 */
export const sellerIdentitySelect = (table: string) => sellerIdentityColumns.map((column) => `${table}."${column}" AS "seller.${column}"`).join(', ')

/**
 * The same columns for a statement over payments that cannot join (an UPDATE ... RETURNING, which
 * SQLite lets name only the changed table): the seller of each row of `payments`, by its primary key.
 */
export const sellerIdentityOfPayments = (payments: string) =>
  sellerIdentityColumns.map((column) => `(SELECT s."${column}" FROM "Seller" s WHERE s."id" = ${payments}."sellerId") AS "seller.${column}"`).join(', ')

/**
 * The seller a row read with sellerIdentitySelect or sellerIdentityOfPayments names (undefined if
 * there was none: requireSeller then says so); its "seller.<column>" entries are taken out of the row.
 */
export function sellerIdentityOf(read: object): SellerIdentity | undefined {
  const row = read as Record<string, unknown>
  const seller = Object.fromEntries(sellerIdentityColumns.map((column) => [column, row[`seller.${column}`]])) as SellerIdentity
  // Last first: they are the row's last keys, and V8 keeps such an object's fast shape.
  for (const column of [...sellerIdentityColumns].reverse()) delete row[`seller.${column}`]
  return typeof seller.id === 'string' ? seller : undefined
}

/**
 * The seller as a checkout needs it: the columns its Open Payments client is made of. Read from
 * the database each time (one indexed row, no cache): a seller re-registered through another
 * replica must never be served from here with its old key. A prepared statement on the read
 * connection (committed rows only; src/db/read-connection.ts), for the start and the other
 * steps that need a seller (Prisma would compile each findUnique, ~1 ms). The finish and the
 * settlement worker read it in the statement that reads or claims the payment instead
 * (sellerIdentitySelect, sellerIdentityOfPayments): as fresh, one round trip fewer.
 */
export async function requireSeller(deps: Deps, id: string): Promise<SellerIdentity> {
  const [seller] = await deps.db.readRows<SellerIdentity>(sellerIdentitySql, [id])
  if (!seller) throw new AppError('SELLER_NOT_FOUND', 'Seller not found', { sellerId: id })
  return seller
}

export async function listSellers(deps: Deps, page: { limit: number; after?: string }): Promise<Seller[]> {
  return deps.db.prisma.seller.findMany({
    orderBy: { id: 'asc' },
    take: page.limit,
    ...(page.after ? { cursor: { id: page.after }, skip: 1 } : {}),
  })
}
