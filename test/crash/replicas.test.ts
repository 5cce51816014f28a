// Three service replicas on one PostgreSQL database, against the sandbox wallet and one webhook
// receiver: a checkout started on one replica, finished on another, read on a third; the same
// finish sent to all three at once; every webhook delivered by exactly one replica, in order.
// (PostgreSQL only: several replicas on one SQLite file are covered by two-processes.test.ts.)
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testProvider } from '../database.js'
import { makeTempDir } from '../harness.js'
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-harness.js'
import { startReceiver, type Receiver } from '../webhooks/webhook-harness.js'
import { childServiceEnv, registerSeller, spawnService, startAndApprove, useChildServices, type ChildService } from './child-service.js'

useChildServices()

let wallet: TestSandbox
let receiver: Receiver
let dir: string
let replicas: ChildService[] = []

describe.runIf(testProvider === 'postgresql')('three replicas on one PostgreSQL database', () => {
  beforeAll(async () => {
    wallet = await startTestSandbox({ continueWaitSeconds: 1, fundingDelayMs: 50 })
    receiver = await startReceiver()
    dir = makeTempDir('replicas-')
    const env = await childServiceEnv(dir, {
      SETTLEMENT_POLL_INTERVAL_MS: '200',
      DJANGO_BASE_URL: receiver.url,
      // A minute: deliveries within the test come from wake-ups (NOTIFY), not polls.
      WEBHOOK_POLL_INTERVAL_MS: '60000',
    })
    replicas = await Promise.all(['replica A', 'replica B', 'replica C'].map((name) => spawnService(name, env, { healthTimeoutMs: 60_000 })))
    await registerSeller(replicas[0], wallet.sandbox, env.KEYS_DIR)
  }, 120_000)

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()))
    await receiver?.close()
    await wallet?.close()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  it('starts on A, finishes on B, reads on C; one finish sent to all three pays once; each webhook goes out once, in order', async () => {
    const [a, b, c] = replicas
    const { pendingId, finishPath } = await startAndApprove(a, wallet.sandbox, 'replicas')
    const continuationsBefore = wallet.sandbox.counts().continuations

    const answers = await Promise.all(
      [b, c, a, b, c, a].map(async (replica) => {
        const res = await fetch(replica.url + finishPath)
        return { status: res.status, body: (await res.json()) as { outgoingPayment?: { id: string } } }
      }),
    )
    for (const answer of answers) expect([200, 202], JSON.stringify(answer)).toContain(answer.status)
    const outgoingIds = new Set(answers.filter((answer) => answer.status === 200).map((answer) => answer.body.outgoingPayment?.id))
    expect(outgoingIds.size).toBe(1)
    expect(wallet.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
    expect(wallet.sandbox.counts().continuations).toBe(continuationsBefore + 1)

    await expect.poll(async () => (await (await c.request(`/payments/${pendingId}/status`)).json()).status, { timeout: 15_000 }).toBe('paid')

    const expected = ['payment.created', 'payment.approved', 'payment.processing', 'payment.completed']
    const deliveriesOf = () => receiver.received.filter((delivery) => delivery.json.pendingId === pendingId)
    await expect.poll(() => deliveriesOf().length, { timeout: 15_000 }).toBeGreaterThanOrEqual(expected.length)
    await new Promise((resolve) => setTimeout(resolve, 500)) // a duplicate would arrive now
    expect(deliveriesOf().map((delivery) => delivery.json.type)).toEqual(expected)
    expect(new Set(deliveriesOf().map((delivery) => delivery.headers['webhook-id'])).size).toBe(expected.length)
    expect(await wallet.invalidResponses()).toEqual([])
  }, 90_000)
})
