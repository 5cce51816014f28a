// Two service processes on one database, the buyer's finish redirect arriving at both at once
// (a double click, a refresh, a load balancer retry): the compare-and-set claim lets exactly one
// request in one process continue the grant and pay; every other answer comes from what it stored.
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../harness.js'
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-harness.js'
import { queryDatabase } from '../database.js'
import { childServiceEnv, registerSeller, spawnService, startAndApprove, useChildServices, type ChildService } from './child-service.js'

const FINISHES_PER_PROCESS = 10

useChildServices()

let wallet: TestSandbox
let dir: string
let env: Record<string, string>
let services: ChildService[]

beforeAll(async () => {
  wallet = await startTestSandbox({ continueWaitSeconds: 1, fundingDelayMs: 50 })
  dir = makeTempDir('two-processes-')
  env = await childServiceEnv(dir, { SETTLEMENT_POLL_INTERVAL_MS: '200' })
  services = await Promise.all([spawnService('service A', env), spawnService('service B', env)])
  await registerSeller(services[0], wallet.sandbox, env.KEYS_DIR)
}, 60_000)

afterAll(async () => {
  await Promise.all((services ?? []).map((service) => service.stop()))
  await wallet?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

describe('two service processes on one database', () => {
  it('finish the same payment once: one continuation, one outgoing payment, one answer', async () => {
    const [a, b] = services
    const { pendingId, finishPath } = await startAndApprove(a, wallet.sandbox, 'two-processes')
    const continuationsBefore = wallet.sandbox.counts().continuations

    const finishes = [a, b].flatMap((service) => Array.from({ length: FINISHES_PER_PROCESS }, () => fetch(service.url + finishPath)))
    const answers = await Promise.all(
      finishes.map(async (pending) => {
        const res = await pending
        return { status: res.status, body: (await res.json()) as { ok: boolean; state: string; outgoingPayment?: { id: string } } }
      }),
    )

    for (const answer of answers) expect([200, 202], JSON.stringify(answer)).toContain(answer.status)
    const paid = answers.filter((answer) => answer.status === 200)
    expect(paid.length).toBeGreaterThan(0)
    for (const answer of paid) expect(answer.body, JSON.stringify(answer)).toMatchObject({ ok: true })
    const outgoingIds = new Set(paid.map((answer) => answer.body.outgoingPayment?.id))
    expect(outgoingIds.size).toBe(1)
    const [outgoingPaymentId] = outgoingIds

    const made = wallet.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)
    expect(made.map((op) => op.id)).toEqual([outgoingPaymentId])
    expect(wallet.sandbox.counts().continuations).toBe(continuationsBefore + 1)
    // Log lines reach this process through the children's stdout pipes, a moment after the answers.
    const created = () =>
      [a, b].flatMap((service) =>
        service.output().split('\n').filter((line) => line.includes('"msg":"outgoing payment created"') && line.includes(pendingId)),
      )
    await expect.poll(() => created().length, { timeout: 5_000 }).toBeGreaterThan(0)
    expect(created(), 'exactly one request in one process created the outgoing payment').toHaveLength(1)

    const [row] = await queryDatabase<{ state: string; outgoingPaymentId: string }>(env.DATABASE_URL, 'SELECT "state", "outgoingPaymentId" FROM "Payment" WHERE "id" = $1', pendingId)
    expect(['PROCESSING', 'COMPLETED']).toContain(row.state)
    expect(row.outgoingPaymentId).toBe(outgoingPaymentId)

    // A later redirect is answered from the stored state by either process, without continuing again.
    for (const service of [a, b]) {
      const again = await fetch(service.url + finishPath)
      expect(again.status).toBe(200)
      expect((await again.json()).outgoingPayment.id).toBe(outgoingPaymentId)
    }
    expect(wallet.sandbox.counts().continuations).toBe(continuationsBefore + 1)

    // Both processes read the same row: once settled, both say paid with the same details.
    const statusAt = async (service: ChildService) => (await service.request(`/payments/${pendingId}/status`)).json()
    await expect.poll(async () => (await statusAt(a)).status, { timeout: 10_000 }).toBe('paid')
    const [statusA, statusB] = await Promise.all([statusAt(a), statusAt(b)])
    expect(statusB).toEqual(statusA)
    expect(statusA).toMatchObject({ pendingId, status: 'paid', outgoingPaymentId })
    expect(wallet.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
    expect(await wallet.invalidResponses()).toEqual([])
  })
})
