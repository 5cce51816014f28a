// The Idempotency-Key of the routes that create something at a wallet (checkout start, standalone
// incoming payments). The key is recorded before any wallet call, in a row whose unique key makes
// a concurrent retry fail to insert and read the first request's row instead:
//  - same parameters, first request done: its answer again (nothing new at any wallet);
//  - same parameters, first request still working: 409, retry shortly;
//  - other parameters: 422 IDEMPOTENCY_KEY_REUSED.
// A request that fails deletes its row (a retry starts cleanly); a row whose process died
// half-way is forgotten after ABANDONED_MS.
import crypto from 'node:crypto'
import { isUniqueViolation } from '../db.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'

const ABANDONED_MS = 2 * 60_000

export interface IdempotentRows<Row> {
  find(key: string): Promise<Row | null>
  /** Whether the request that inserted `row` finished (so its answer can be replayed). */
  isDone(row: Row): boolean
  fingerprintOf(row: Row): string | null
  /** Deletes the unfinished row of `key` created before `before`. */
  forgetUnfinished(key: string, before: Date): Promise<unknown>
}

export type Claim<Row> = { outcome: 'claimed'; row: Row } | { outcome: 'replayed'; row: Row }

/** sha256 of the request's parameters, to tell a retry from a reuse of the key. */
export function fingerprintOf(parameters: unknown[]): string {
  return crypto.createHash('sha256').update(JSON.stringify(parameters)).digest('hex')
}

/**
 * The finished first request with this key, to answer again; null when there is none (or it died
 * half-way long ago). Throws 422 when the parameters differ and 409 while it is still working.
 */
export async function findReplay<Row>(deps: Deps, key: string, fingerprint: string, rows: IdempotentRows<Row>): Promise<Row | null> {
  await rows.forgetUnfinished(key, new Date(deps.clock.now().getTime() - ABANDONED_MS))
  const existing = await rows.find(key)
  return existing && replayable(existing, key, fingerprint, rows)
}

/**
 * Records the request by inserting its row (`insert`; the unique key refuses a second one):
 * claimed, do the work; or replayed, the answer of the first request with this key. Callers ask
 * findReplay first (before any wallet call), so the insert is tried straight away; the key's row
 * is read only when the insert is refused.
 */
export async function claimIdempotencyKey<Row>(
  deps: Deps,
  key: string | undefined,
  fingerprint: string,
  rows: IdempotentRows<Row>,
  insert: () => Promise<Row>,
): Promise<Claim<Row>> {
  if (!key) return { outcome: 'claimed', row: await insert() }
  // Twice at most: the first request may fail and delete its row between our insert and read.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return { outcome: 'claimed', row: await insert() }
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
    }
    const replay = await findReplay(deps, key, fingerprint, rows)
    if (replay) return { outcome: 'replayed', row: replay }
  }
  throw new AppError('PAYMENT_NOT_FINISHABLE', 'The first request with this Idempotency-Key is still being processed; retry shortly', { idempotencyKey: key })
}

function replayable<Row>(row: Row, key: string, fingerprint: string, rows: IdempotentRows<Row>): Row {
  if (rows.fingerprintOf(row) !== fingerprint) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request', { idempotencyKey: key })
  }
  if (!rows.isDone(row)) {
    throw new AppError('PAYMENT_NOT_FINISHABLE', 'The first request with this Idempotency-Key is still being processed; retry shortly', { idempotencyKey: key })
  }
  return row
}
