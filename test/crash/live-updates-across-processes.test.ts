// Live status across processes: two service processes on one database, a checkout driven through
// A, its `paymentUpdated` subscriber on B (over real HTTP, server-sent events). On PostgreSQL the
// change reaches B through NOTIFY; on one SQLite file B re-reads the followed row every 500 ms.
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { subscribeToPayment } from '../checkout/payment-updates-client.js'
import { testProvider } from '../database.js'
import { makeTempDir } from '../harness.js'
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-harness.js'
import { childServiceEnv, registerSeller, spawnService, startAndApprove, useChildServices, type ChildService } from './child-service.js'

useChildServices()

let wallet: TestSandbox
let dir: string
let a: ChildService
let b: ChildService

beforeAll(async () => {
  wallet = await startTestSandbox({ continueWaitSeconds: 1, fundingDelayMs: 50 })
  dir = makeTempDir('live-updates-')
  const env = await childServiceEnv(dir, { SETTLEMENT_POLL_INTERVAL_MS: '200' })
  // B polls every ten minutes, but its settlement worker, told by A when the check is due, may run
  // it: the start and the finish, and the states they make, are A's.
  ;[a, b] = await Promise.all([
    spawnService('service A', env, { healthTimeoutMs: 60_000 }),
    spawnService('service B', { ...env, SETTLEMENT_POLL_INTERVAL_MS: '600000' }, { healthTimeoutMs: 60_000 }),
  ])
  await registerSeller(a, wallet.sandbox, env.KEYS_DIR)
}, 120_000)

afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((service) => service.stop()))
  await wallet?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

/** Starts a checkout on A, subscribes on B, then sends the approved buyer's redirect to A; returns B's subscriber once its stream ended. */
async function followOnBWhileAFinishes(offerId: string) {
  const { pendingId, finishPath } = await startAndApprove(a, wallet.sandbox, offerId)
  const live = await subscribeToPayment(b.url, pendingId)
  expect(live.res.status).toBe(200)
  await expect.poll(() => live.states()).toEqual(['AWAITING_APPROVAL'])
  expect((await fetch(a.url + finishPath)).status).toBe(200)
  await expect.poll(() => live.states().at(-1), { timeout: 20_000 }).toBe('COMPLETED')
  await live.done
  const changedBy = (service: ChildService) =>
    service.output().split('\n').filter((line) => line.includes('"msg":"payment state changed"') && line.includes(pendingId)).length
  expect(changedBy(a), 'A started and finished it: AWAITING_APPROVAL, FINISHING, PROCESSING').toBeGreaterThanOrEqual(3)
  expect(changedBy(a) + changedBy(b), 'and one of the two settled it: COMPLETED').toBeGreaterThanOrEqual(4)
  return { pendingId, live }
}

describe('paymentUpdated across two processes on one database', () => {
  it.skipIf(testProvider !== 'postgresql')(
    'PostgreSQL (skipped on SQLite, which has no NOTIFY): a subscriber on B sees every state of a checkout driven through A, in order',
    async () => {
      const { pendingId, live } = await followOnBWhileAFinishes('live-replicas')
      expect(live.states()).toEqual(['AWAITING_APPROVAL', 'FINISHING', 'PROCESSING', 'COMPLETED'])
      expect(live.events.at(-1).data.paymentUpdated).toEqual({ pendingId, state: 'COMPLETED', status: 'paid', failure: null })
    },
    60_000,
  )

  it.skipIf(testProvider !== 'sqlite')(
    'SQLite (skipped on PostgreSQL, which is told at once): a subscriber on B, polling the row, sees the checkout driven through A move forward to its final state',
    async () => {
      const { pendingId, live } = await followOnBWhileAFinishes('live-one-file')
      const order = ['AWAITING_APPROVAL', 'FINISHING', 'PROCESSING', 'COMPLETED']
      const states = live.states()
      // A poll may find a state already superseded: what arrives is in order, never repeated, and ends final.
      expect(states.map((state) => order.indexOf(state))).toEqual([...new Set(states.map((state) => order.indexOf(state)))].sort())
      expect(states[0]).toBe('AWAITING_APPROVAL')
      expect(live.events.at(-1).data.paymentUpdated).toEqual({ pendingId, state: 'COMPLETED', status: 'paid', failure: null })
    },
    60_000,
  )
})
