// Crash recovery: the service runs as a child process and SIGKILLs itself at each step of a finish
// (TEST_CRASH_AT), as a power cut would; a restarted process on the same database must end every
// payment exactly once: one outgoing payment at most, the right final status, one final event.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, it, type TestContext } from 'vitest'
import type { CrashPoint } from '../../src/crash-points.js'
import { makeTempDir } from '../harness.js'
import { startTestSandbox } from '../sandbox/sandbox-harness.js'
import {
  childServiceEnv,
  registerSeller,
  spawnService,
  startAndApprove,
  useChildServices,
  type ChildService,
} from './child-service.js'
import { queryDatabase } from '../database.js'

useChildServices()

// Each test has its own sandbox wallet and database. They run one after another: most of their
// time is CPU spent starting child processes, and two cores gain nothing from running them together.
// Generous timeouts: a child's start and its first wallet client take seconds on a busy machine.
const slow = { timeout: 60_000 }
let dir: string

beforeAll(() => {
  dir = makeTempDir('crash-recovery-')
})

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

/** A sandbox wallet, a fresh database, and a way to start children on it that print their output if the test fails. */
async function crashWorld(name: string, test: TestContext, extra: Record<string, string> = {}) {
  const wallet = await startTestSandbox({ continueWaitSeconds: 1, fundingDelayMs: 50 })
  test.onTestFinished(() => wallet.close())
  const caseDir = path.join(dir, name)
  fs.mkdirSync(caseDir)
  // One KEYS_DIR for the file (one seller key); a short finish lease, so that a restarted process
  // resumes a dead claim within a second.
  const env = await childServiceEnv(caseDir, { KEYS_DIR: path.join(dir, 'keys'), FINISH_LEASE_SECONDS: '1', SETTLEMENT_POLL_INTERVAL_MS: '200', ...extra })
  const statusOf = async (service: ChildService, pendingId: string): Promise<Status> => (await service.request(`/payments/${pendingId}/status`)).json()
  return {
    wallet,
    env,
    spawn: (label: string, more: Record<string, string> = {}) => spawnService(`${label} (${name})`, { ...env, ...more }, { test }),
    statusOf,
    async waitForFinalStatus(service: ChildService, pendingId: string): Promise<Status> {
      await test.expect.poll(async () => (await statusOf(service, pendingId)).status, { timeout: 15_000, interval: 200 }).not.toBe('pending')
      return statusOf(service, pendingId)
    },
    outgoingPaymentsFor: (pendingId: string) => wallet.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId),
    paymentRow: async (pendingId: string) =>
      (
        await queryDatabase<{ state: string; accessToken: string | null; outgoingPaymentId: string | null; failureCode: string | null }>(
          env.DATABASE_URL,
          'SELECT "state", "accessToken", "outgoingPaymentId", "failureCode" FROM "Payment" WHERE "id" = $1',
          pendingId,
        )
      )[0],
    eventTypes: async (pendingId: string) =>
      (await queryDatabase<{ type: string }>(env.DATABASE_URL, 'SELECT "type" FROM "WebhookEvent" WHERE "paymentId" = $1 ORDER BY "sequence"', pendingId)).map((e) => e.type),
  }
}

type Status = { status: string; outgoingPaymentId?: string }

const PAID_EVENTS = ['payment.created', 'payment.approved', 'payment.processing', 'payment.completed']

const crashes: Array<{
  crashAt: CrashPoint
  /** What the dead process left behind. */
  tokenStored: boolean
  outgoingAtCrash: number
  /** What the restarted process makes of it. */
  status: 'paid' | 'failed'
  state: string
  failureCode: string | null
  events: string[]
}> = [
  {
    // The access token died with the process and continuation is single-use: nothing can pay.
    crashAt: 'after-grant-continued',
    tokenStored: false,
    outgoingAtCrash: 0,
    status: 'failed',
    state: 'FAILED',
    failureCode: 'GRANT_CONTINUATION_FAILED',
    events: ['payment.created', 'payment.approved', 'payment.failed'],
  },
  {
    crashAt: 'after-token-stored',
    tokenStored: true,
    outgoingAtCrash: 0,
    status: 'paid',
    state: 'COMPLETED',
    failureCode: null,
    events: PAID_EVENTS,
  },
  {
    // The wallet made the payment; the service never recorded it. It must find it, not pay twice.
    crashAt: 'after-outgoing-payment-created',
    tokenStored: true,
    outgoingAtCrash: 1,
    status: 'paid',
    state: 'COMPLETED',
    failureCode: null,
    events: PAID_EVENTS,
  },
]

describe('SIGKILL during a finish, then restart on the same database', slow, () => {
  it.for(crashes)('$crashAt: ends $status with $outgoingAtCrash outgoing payment(s) at the crash', async (c, test) => {
    const { expect } = test
    const { wallet, env, spawn, waitForFinalStatus, outgoingPaymentsFor, paymentRow, eventTypes } = await crashWorld(c.crashAt, test)
    const crashing = await spawn('service crashing', { TEST_CRASH_AT: c.crashAt })
    await registerSeller(crashing, wallet.sandbox, env.KEYS_DIR)
    const balanceBefore = wallet.sandbox.balanceOf('buyer')
    const continuationsBefore = wallet.sandbox.counts().continuations
    const { pendingId, finishPath } = await startAndApprove(crashing, wallet.sandbox, `crash-${c.crashAt}`, '700')

    // The process dies in the middle of the request: the browser gets no answer at all.
    await expect(fetch(crashing.url + finishPath)).rejects.toThrow()
    expect(await crashing.exited).toEqual({ code: null, signal: 'SIGKILL' })

    const atCrash = await paymentRow(pendingId)
    expect(atCrash).toMatchObject({ state: 'FINISHING', outgoingPaymentId: null })
    expect(Boolean(atCrash.accessToken)).toBe(c.tokenStored)
    expect(outgoingPaymentsFor(pendingId)).toHaveLength(c.outgoingAtCrash)
    expect(wallet.sandbox.counts().continuations).toBe(continuationsBefore + 1)

    const restarted = await spawn('service restarted')
    const final = await waitForFinalStatus(restarted, pendingId)
    expect(final.status).toBe(c.status)

    const made = outgoingPaymentsFor(pendingId)
    expect(made).toHaveLength(c.status === 'paid' ? 1 : 0)
    expect(wallet.sandbox.counts().continuations).toBe(continuationsBefore + 1)
    const after = await paymentRow(pendingId)
    expect(after).toMatchObject({ state: c.state, failureCode: c.failureCode })
    if (c.status === 'paid') {
      expect(final.outgoingPaymentId).toBe(made[0].id)
      expect(after.outgoingPaymentId).toBe(made[0].id)
      expect(wallet.sandbox.balanceOf('buyer')).toBe(balanceBefore - 700n)
    } else {
      expect(final.outgoingPaymentId).toBeUndefined()
      expect(wallet.sandbox.balanceOf('buyer')).toBe(balanceBefore)
    }
    // One event per state entered, across both processes: exactly one final event.
    expect(await eventTypes(pendingId)).toEqual(c.events)

    // A late refresh of the redirect is answered from the stored state, without a second continuation.
    const refreshed = await fetch(restarted.url + finishPath)
    expect(refreshed.status).toBe(200)
    expect(await refreshed.json()).toMatchObject({ ok: c.status === 'paid', state: c.state })
    expect(wallet.sandbox.counts().continuations).toBe(continuationsBefore + 1)
    await restarted.stop()
  })

  it('SIGKILL at an idle moment: the restarted process keeps serving paid and pending payments', async (test) => {
    const { expect } = test
    // The default lease: nothing here is resumed, every finish runs to its end in one process.
    const { wallet, env, spawn, statusOf, waitForFinalStatus, outgoingPaymentsFor, eventTypes } = await crashWorld('idle', test, { FINISH_LEASE_SECONDS: '60' })
    const first = await spawn('service before the idle kill')
    await registerSeller(first, wallet.sandbox, env.KEYS_DIR)
    const paid = await startAndApprove(first, wallet.sandbox, 'idle-paid')
    expect((await fetch(first.url + paid.finishPath)).status).toBe(200)
    const paidStatus = await waitForFinalStatus(first, paid.pendingId)
    expect(paidStatus.status).toBe('paid')
    const waiting = await startAndApprove(first, wallet.sandbox, 'idle-waiting')

    expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' })

    const second = await spawn('service after the idle kill')
    expect(await statusOf(second, paid.pendingId)).toEqual(paidStatus)
    expect((await statusOf(second, waiting.pendingId)).status).toBe('pending')
    const finished = await fetch(second.url + waiting.finishPath)
    expect(finished.status).toBe(200)
    expect((await waitForFinalStatus(second, waiting.pendingId)).status).toBe('paid')
    expect(outgoingPaymentsFor(paid.pendingId)).toHaveLength(1)
    expect(outgoingPaymentsFor(waiting.pendingId)).toHaveLength(1)
    expect(await eventTypes(paid.pendingId)).toEqual(PAID_EVENTS)
    expect(await eventTypes(waiting.pendingId)).toEqual(PAID_EVENTS)
    await second.stop()
  })
})

describe('a live finish whose lease ran out (the settlement worker presumes it crashed)', slow, () => {
  it('is not failed behind its back: the resumed run pays, the late one backs off, one outgoing payment', async (test) => {
    const { expect } = test
    // Short lease, and a wallet slow enough that the request outlives it: its continuation takes
    // 3 s, so the settlement worker resumes the claim and continues first; then the resumed run's
    // outgoing payment takes 4 s, so the request's refused continuation arrives in between.
    const { wallet, env, spawn, waitForFinalStatus, outgoingPaymentsFor, eventTypes } = await crashWorld('lease-overrun', test, { OPEN_PAYMENTS_TIMEOUT_MS: '10000' })
    const service = await spawn('service with a slow wallet')
    await registerSeller(service, wallet.sandbox, env.KEYS_DIR)
    const { pendingId, finishPath } = await startAndApprove(service, wallet.sandbox, 'lease-overrun')
    const continuationsBefore = wallet.sandbox.counts().continuations
    wallet.sandbox.faults.add({ method: 'POST', path: '/auth/continue/*', latencyMs: 3000, times: 1 })
    wallet.sandbox.faults.add({ method: 'POST', path: '/rs/outgoing-payments', latencyMs: 4000, times: 1 })

    const finished = await fetch(service.url + finishPath)
    expect([200, 202]).toContain(finished.status)
    expect(await finished.json()).not.toMatchObject({ state: 'FAILED' })
    const final = await waitForFinalStatus(service, pendingId)
    expect(final.status).toBe('paid')
    const made = outgoingPaymentsFor(pendingId)
    expect(made).toHaveLength(1)
    expect(final.outgoingPaymentId).toBe(made[0].id)
    expect(wallet.sandbox.counts().continuations).toBe(continuationsBefore + 1)
    expect(await eventTypes(pendingId)).toEqual(PAID_EVENTS)
    await service.stop()
  })
})
