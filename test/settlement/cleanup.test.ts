// Leaving the wallets clean: a checkout that ends unpaid gets its grant cancelled at the buyer's
// wallet and (when nothing was paid into it) its incoming payment closed at the seller's, retried
// until the wallet confirms, with a visible give-up. Every state change is one log line.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cancelGrant } from '../../src/open-payments/grants.js'
import { closeIncomingPayment } from '../../src/open-payments/incoming-payments.js'
import { readWalletAddress } from '../../src/open-payments/wallet-addresses.js'
import { requireSeller } from '../../src/sellers/service.js'
import { SELLER_ID } from '../checkout/world.js'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'

// Seven attempts in all (the first and six retries), 200 ms apart: the give-up comes within seconds.
const RETRIES = 6
let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld({ env: { CONSENT_TIMEOUT_SECONDS: '2', CLEANUP_RETRY_SCHEDULE: Array(RETRIES).fill('200ms').join(',') } })
})
afterEach(() => {
  world.sandbox.faults.clear()
  world.sandbox.setFundingMode('auto')
  world.sandbox.setBalance('buyer', 1_000_000n)
})
afterAll(() => world.close())

const row = (id: string) => world.service.db.payment.findUniqueOrThrow({ where: { id } })

/** What the wallets hold for this payment: its grant's status and its incoming payment. */
async function atWallet(pendingId: string) {
  const payment = await row(pendingId)
  return {
    grant: world.sandbox.grants().find((g) => g.continueUri === payment.continueUri)!,
    incoming: world.sandbox.incomingPayments().find((p) => p.id === payment.incomingPaymentId)!,
  }
}

const CLEANUP = `query ($id: String!) { payment(pendingId: $id) { state cleanup { grantCancelled incomingPaymentClosed gaveUp
  grant { status outcome attempts lastError nextAttemptAt finishedAt } incomingPayment { status outcome attempts lastError } } } }`
const cleanupOf = async (pendingId: string) => (await world.service.graphql(CLEANUP, { id: pendingId })).data.payment.cleanup

const settled = (pendingId: string) =>
  expect.poll(async () => (await world.service.db.walletCleanup.count({ where: { paymentId: pendingId, status: 'PENDING' } })) === 0, { timeout: 15_000, interval: 100 })

/** This payment's JSON log lines with message `msg`. */
function logLines(pendingId: string, msg: string): Array<Record<string, any>> {
  return world.service.logs.map((line) => JSON.parse(line)).filter((line) => line.pendingId === pendingId && line.msg === msg)
}

async function rejectCheckout(offerId: string) {
  const { pendingId, redirectUrl } = await world.startOk({}, offerId)
  expect((await fetch(await world.reject(redirectUrl))).status).toBe(200)
  expect((await row(pendingId)).state).toBe('REJECTED')
  return pendingId
}

describe('a checkout that ends unpaid leaves the wallets clean', () => {
  it('abandoned consent: EXPIRED, then the grant is revoked and the incoming payment closed at the wallets', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'abandoned')
    expect((await atWallet(pendingId)).grant.finalized).toBe(false)
    await expect.poll(async () => (await row(pendingId)).state, { timeout: 8000, interval: 100 }).toBe('EXPIRED')
    await settled(pendingId).toBe(true)

    const wallet = await atWallet(pendingId)
    expect(wallet.grant).toMatchObject({ finalized: true, finalizationReason: 'REVOKED' })
    expect(wallet.incoming).toMatchObject({ completed: true, receivedAmount: { value: '0' } })
    expect(await cleanupOf(pendingId)).toMatchObject({
      grantCancelled: true,
      incomingPaymentClosed: true,
      gaveUp: false,
      grant: { status: 'DONE', outcome: 'CANCELLED', lastError: null, nextAttemptAt: null },
      incomingPayment: { status: 'DONE', outcome: 'CLOSED' },
    })
    // A late approval changes nothing: the wallet refuses it.
    expect(new URL(await world.approve(redirectUrl)).searchParams.get('result')).toBe('unknown_interaction')
  })

  it('rejection: the grant is cancelled too (a result= redirect does not prove the wallet finalized it) and the incoming payment closed', async () => {
    const pendingId = await rejectCheckout('rejected')
    await settled(pendingId).toBe(true)
    const wallet = await atWallet(pendingId)
    expect(wallet.grant).toMatchObject({ finalized: true, finalizationReason: 'REVOKED' })
    expect(wallet.incoming.completed).toBe(true)
    expect(await cleanupOf(pendingId)).toMatchObject({ grantCancelled: true, incomingPaymentClosed: true, gaveUp: false })
  })

  it('funding failure with nothing received: the continued grant is revoked and the incoming payment closed', async () => {
    world.sandbox.setBalance('buyer', 50n)
    const { pendingId, redirectUrl } = await world.startOk({}, 'unfunded')
    expect((await fetch(await world.approve(redirectUrl))).status).toBe(200)
    await expect.poll(async () => (await row(pendingId)).state, { timeout: 10_000, interval: 100 }).toBe('FAILED')
    expect((await row(pendingId)).failureCode).toBe('FUNDING_FAILED')
    await settled(pendingId).toBe(true)
    const wallet = await atWallet(pendingId)
    expect(wallet.grant).toMatchObject({ finalized: true, finalizationReason: 'REVOKED' })
    expect(wallet.incoming).toMatchObject({ completed: true, receivedAmount: { value: '0' } })
    expect(await cleanupOf(pendingId)).toMatchObject({ grantCancelled: true, incomingPaymentClosed: true })
  })

  it('a partially received payment keeps its incoming payment open; only the grant is cancelled', async () => {
    world.sandbox.setFundingMode('manual')
    const { pendingId, redirectUrl } = await world.startOk({}, 'partial')
    const finished = await (await fetch(await world.approve(redirectUrl))).json()
    world.sandbox.fundOutgoingPayment(finished.outgoingPayment.id, { receiveAmount: 40n })
    await expect.poll(async () => (await row(pendingId)).state, { timeout: 10_000, interval: 100 }).toBe('FAILED')
    expect(await row(pendingId)).toMatchObject({ failureCode: 'FUNDING_FAILED', receivedAmount: '40' })
    await settled(pendingId).toBe(true)
    const wallet = await atWallet(pendingId)
    expect(wallet.grant.finalizationReason).toBe('REVOKED')
    expect(wallet.incoming).toMatchObject({ completed: false, receivedAmount: { value: '40' } })
    expect(await cleanupOf(pendingId)).toMatchObject({ grantCancelled: true, incomingPaymentClosed: false, incomingPayment: null })
    expect(world.exchanges.some((e) => e.method === 'POST' && e.path.endsWith('/complete') && wallet.incoming.id.endsWith(e.path.split('/').at(-2)!))).toBe(false)
  })

  it('a paid checkout needs no clean-up', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'paid')
    await fetch(await world.approve(redirectUrl))
    await expect.poll(async () => (await row(pendingId)).state, { timeout: 10_000, interval: 100 }).toBe('COMPLETED')
    expect(await world.service.db.walletCleanup.count({ where: { paymentId: pendingId } })).toBe(0)
    expect(await cleanupOf(pendingId)).toBeNull()
  })
})

describe('retries and give-up', () => {
  it('a wallet that fails the cancel and the close three times each, then recovers, ends clean', async () => {
    // The SDK's HTTP client retries an idempotent DELETE twice itself: three of our attempts are nine requests.
    world.sandbox.faults.add({ method: 'DELETE', path: '/auth/continue/*', status: 503, times: 9 })
    world.sandbox.faults.add({ method: 'POST', path: /\/complete$/, status: 503, times: 3 })
    const pendingId = await rejectCheckout('flaky-wallet')
    await settled(pendingId).toBe(true)

    const wallet = await atWallet(pendingId)
    expect(wallet.grant.finalizationReason).toBe('REVOKED')
    expect(wallet.incoming.completed).toBe(true)
    // Three refusals each, then done. (A loaded machine may add a timeout: it is one more attempt, logged the same way.)
    const failures = logLines(pendingId, 'wallet clean-up step failed; will retry')
    const refusals = (step: string) => failures.filter((l) => l.step === step && l.reason === 'wallet answered 503 internal_server_error')
    expect(refusals('cancel grant').map((l) => l.level)).toEqual([30, 30, 30])
    expect(refusals('close incoming payment').map((l) => l.level)).toEqual([30, 30, 30])
    const attemptsOf = (step: string) => failures.filter((l) => l.step === step).length + 1
    expect(await cleanupOf(pendingId)).toMatchObject({
      grantCancelled: true,
      incomingPaymentClosed: true,
      gaveUp: false,
      grant: { status: 'DONE', outcome: 'CANCELLED', attempts: attemptsOf('cancel grant'), lastError: null },
      incomingPayment: { status: 'DONE', outcome: 'CLOSED', attempts: attemptsOf('close incoming payment') },
    })
    expect(logLines(pendingId, 'wallet clean-up step done').map((l) => [l.step, l.attempt, l.outcome]).sort()).toEqual([
      ['cancel grant', attemptsOf('cancel grant'), 'CANCELLED'],
      ['close incoming payment', attemptsOf('close incoming payment'), 'CLOSED'],
    ])
  })

  it('a wallet that never recovers ends in a visible give-up; an operator can re-arm it', async () => {
    world.sandbox.faults.add({ method: 'DELETE', path: '/auth/continue/*', status: 503 })
    world.sandbox.faults.add({ method: 'POST', path: /\/complete$/, status: 503 })
    const pendingId = await rejectCheckout('dead-wallet')
    await settled(pendingId).toBe(true)

    const wallet = await atWallet(pendingId)
    expect(wallet.grant.finalizationReason).toBe('REJECTED') // never revoked by the service
    expect(wallet.incoming.completed).toBe(false)
    const cleanup = await cleanupOf(pendingId)
    expect(cleanup).toMatchObject({
      grantCancelled: false,
      incomingPaymentClosed: false,
      gaveUp: true,
      grant: { status: 'GAVE_UP', outcome: null, attempts: RETRIES + 1, lastError: 'wallet answered 503 internal_server_error', nextAttemptAt: null },
      incomingPayment: { status: 'GAVE_UP', attempts: RETRIES + 1 },
    })
    expect(cleanup.grant.finishedAt).not.toBeNull()
    const gaveUp = logLines(pendingId, 'wallet clean-up gave up; the wallet still holds it (README "Wallet clean-up")')
    expect(gaveUp.map((l) => [l.level, l.step, l.attempt]).sort()).toEqual([
      [40, 'cancel grant', RETRIES + 1],
      [40, 'close incoming payment', RETRIES + 1],
    ])

    // The wallet is fixed; the operator re-arms the clean-up and it completes.
    world.sandbox.faults.clear()
    const retried = await world.service.graphql(
      `mutation ($id: String!) { retryWalletCleanup(pendingId: $id) { __typename ... on Payment { pendingId } } }`,
      { id: pendingId },
    )
    expect(retried.data.retryWalletCleanup).toEqual({ __typename: 'Payment', pendingId })
    await expect.poll(async () => (await cleanupOf(pendingId)).grantCancelled, { timeout: 10_000, interval: 100 }).toBe(true)
    await expect.poll(async () => (await cleanupOf(pendingId)).incomingPaymentClosed, { timeout: 10_000, interval: 100 }).toBe(true)
    expect((await cleanupOf(pendingId)).gaveUp).toBe(false)
    expect((await atWallet(pendingId)).grant.finalizationReason).toBe('REVOKED')
  })
})

describe('state change log lines', () => {
  it('each state change is one info line with pendingId, from, to and failureCode, and nothing secret', async () => {
    world.sandbox.setBalance('buyer', 50n)
    const { pendingId, redirectUrl } = await world.startOk({}, 'logged')
    await fetch(await world.approve(redirectUrl))
    await expect.poll(async () => (await row(pendingId)).state, { timeout: 10_000, interval: 100 }).toBe('FAILED')
    await settled(pendingId).toBe(true)

    const changes = logLines(pendingId, 'payment state changed')
    expect(changes.map(({ level, from, to, failureCode }) => ({ level, from, to, failureCode }))).toEqual([
      { level: 30, from: null, to: 'AWAITING_APPROVAL', failureCode: undefined },
      { level: 30, from: 'AWAITING_APPROVAL', to: 'FINISHING', failureCode: undefined },
      { level: 30, from: 'FINISHING', to: 'PROCESSING', failureCode: undefined },
      { level: 30, from: 'PROCESSING', to: 'FAILED', failureCode: 'FUNDING_FAILED' },
    ])
    expect(changes.at(-1)!.walletCleanup).toEqual(['CANCEL_GRANT', 'CLOSE_INCOMING_PAYMENT'])
    expect(logLines(pendingId, 'wallet clean-up step done')).toHaveLength(2)

    const payment = await row(pendingId)
    const secrets = [world.service.deps.secrets.decrypt(payment.continueToken!), world.service.deps.secrets.decrypt(payment.accessToken!), world.service.deps.secrets.decrypt(payment.clientNonce!), payment.interactRef!]
    const mine = world.service.logs.filter((line) => line.includes(pendingId)).join('\n')
    for (const secret of secrets) expect(mine).not.toContain(secret)
  })
})

describe('the wallet calls answer domain outcomes', () => {
  it('failed with a safe reason while the wallet refuses; alreadyGone for what the wallet already ended', async () => {
    // The worker has cancelled and closed this checkout's grant and incoming payment (CANCELLED, CLOSED above).
    const pendingId = await rejectCheckout('gateway')
    await settled(pendingId).toBe(true)
    const payment = await row(pendingId)
    const deps = world.service.deps
    const seller = await requireSeller(deps, SELLER_ID)
    const grant = { continueUri: payment.continueUri!, continueToken: world.service.deps.secrets.decrypt(payment.continueToken!) }

    const client = await deps.wallets.sellerClient(seller)
    const sellerWallet = await readWalletAddress(deps, client, seller.walletAddressUrl, 'seller walletAddressUrl')
    if (sellerWallet.outcome !== 'found') throw sellerWallet.error
    const close = (url: string) => closeIncomingPayment(deps, client, seller.id, sellerWallet.wallet, url)

    world.sandbox.faults.add({ method: 'DELETE', path: '/auth/continue/*', status: 503, times: 3 })
    world.sandbox.faults.add({ method: 'POST', path: /\/complete$/, status: 502, times: 1 })
    expect(await cancelGrant(deps, client, grant)).toMatchObject({ outcome: 'unavailable', walletStatus: 503, walletCode: 'internal_server_error' })
    expect(await close(payment.incomingPaymentId!)).toMatchObject({ outcome: 'unavailable', walletStatus: 502, walletCode: 'internal_server_error' })

    expect(await cancelGrant(deps, client, grant)).toEqual({ outcome: 'alreadyGone' }) // 404: revoked already
    expect(await close(payment.incomingPaymentId!)).toEqual({ outcome: 'alreadyGone' }) // 409 wrong state
    expect(await close(`${payment.incomingPaymentId}0`)).toEqual({ outcome: 'alreadyGone' }) // 404
  })
})
