// International checkout: a buyer whose wallet holds EUR funds a USD seller, end to end over REST
// against the sandbox wallet (rate table 1 USD = 0.91 EUR). The seller's side (amount, settlement,
// webhooks) stays in USD; the buyer sees and approves the debit in EUR.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, SELLER_ID, type CheckoutWorld } from './world.js'

const RATES = { base: 'USD', rates: { EUR: '0.91' } }
const EUR = { assetCode: 'EUR', assetScale: 2 }
const USD = { assetCode: 'USD', assetScale: 2 }
const EUR_BALANCE = 1_000_000n

let world: CheckoutWorld
let eurBuyer: string
beforeAll(async () => {
  world = await startCheckoutWorld({ sandbox: { rates: RATES } })
  world.sandbox.addWallet({ name: 'buyer-eur', publicName: 'Buyer (EUR)', assetCode: 'EUR', assetScale: 2, balance: EUR_BALANCE })
  eurBuyer = world.sandbox.walletAddressUrl('buyer-eur')
})
afterEach(() => {
  world.sandbox.setRates(RATES)
  world.sandbox.setBalance('buyer-eur', EUR_BALANCE)
  world.sandbox.setBalance('seller', 0n)
})
afterAll(() => world.close())

const row = (id: string) => world.service.db.payment.findUniqueOrThrow({ where: { id } })
const restStatus = async (id: string) => (await (await world.service.request(`/payments/${id}/status`)).json()).status
const events = async (id: string) =>
  (await world.service.db.webhookEvent.findMany({ where: { paymentId: id }, orderBy: { id: 'asc' } })).map((e) => JSON.parse(e.payload))

const startEur = (amount: string, offerId: string) => world.startOk({ buyerWalletAddressUrl: eurBuyer, amount }, offerId)

describe('cross-currency checkout over REST (EUR buyer, USD seller)', () => {
  it('answers both sides of the price, asks for a grant in EUR, and settles in USD', async () => {
    const started = await startEur('1000', 'intl-1')
    // Every field of the original contract, unchanged, plus the quote the buyer approves.
    expect(started).toMatchObject({
      success: true,
      amount: '1000',
      assetCode: 'USD',
      debitAmount: { value: '910', ...EUR },
      receiveAmount: { value: '1000', ...USD },
    })
    const quoteExpiresAt = new Date(started.quoteExpiresAt as string).getTime()
    expect(quoteExpiresAt).toBeGreaterThan(Date.now() + 4 * 60_000)
    expect(quoteExpiresAt).toBeLessThanOrEqual(Date.now() + 5 * 60_000)

    // The grant the buyer approves is limited to the EUR debit, for this incoming payment only.
    const [access] = world.sandbox.grantAccessOf(started.redirectUrl)
    expect(access.limits).toEqual({ debitAmount: { value: '910', ...EUR }, receiver: started.incomingPaymentId })
    const consent = await (await fetch(started.redirectUrl)).text()
    expect(consent).toContain('9.10 EUR')

    const finishUrl = await world.approve(started.redirectUrl)
    const finished = await (await fetch(finishUrl)).json()
    expect(finished).toMatchObject({ ok: true, outgoingPayment: { debitAmount: { value: '910', ...EUR }, receiveAmount: { value: '1000', ...USD } } })

    await expect.poll(() => restStatus(started.pendingId), { timeout: 10_000 }).toBe('paid')
    expect(world.sandbox.balanceOf('buyer-eur')).toBe(EUR_BALANCE - 910n)
    expect(world.sandbox.balanceOf('seller')).toBe(1000n)
    const settled = await world.service.graphql(
      `query ($id: String!) { payment(pendingId: $id) { settlement { sentAmount { value assetCode assetScale } receivedAmount { value assetCode assetScale } } } }`,
      { id: started.pendingId },
    )
    expect(settled.data.payment.settlement).toEqual({ sentAmount: { value: '910', ...EUR }, receivedAmount: { value: '1000', ...USD } })

    // The page after the wallet (a refresh of the same redirect) speaks both currencies.
    const page = await (await fetch(finishUrl, { headers: { accept: 'text/html' } })).text()
    expect(page).toContain('You paid 9.10 EUR · the seller receives 10.00 USD')

    // Webhooks keep the seller's amount and carry the buyer's debit beside it.
    const sent = await events(started.pendingId)
    expect(sent.map((e) => e.type)).toEqual(['payment.created', 'payment.approved', 'payment.processing', 'payment.completed'])
    for (const event of sent) {
      expect(event).toMatchObject({ amount: '1000', assetCode: 'USD', assetScale: 2, debitAmount: { value: '910', ...EUR } })
    }
    expect(await world.invalidResponses()).toEqual([])
  })

  it('rounds the debit up so the seller receives the full amount', async () => {
    const started = await startEur('1001', 'intl-rounding')
    expect(started.debitAmount).toEqual({ value: '911', ...EUR }) // 910.91 EUR cents, rounded up
    await fetch(await world.approve(started.redirectUrl))
    await expect.poll(() => restStatus(started.pendingId), { timeout: 10_000 }).toBe('paid')
    expect((await row(started.pendingId)).receivedAmount).toBe('1001')
    expect(world.sandbox.balanceOf('seller')).toBe(1001n)
  })

  it('a rate that falls before the re-quote: pays at the new debit, which fits the grant', async () => {
    const started = await startEur('1000', 'intl-rate-down')
    const finishUrl = await world.approve(started.redirectUrl)
    world.clock.advance(6 * 60_000) // the quote (5 min) expires at the wallet
    world.sandbox.setRates({ base: 'USD', rates: { EUR: '0.90' } })
    const finished = await (await fetch(finishUrl)).json()
    expect(finished.ok).toBe(true)
    expect(finished.outgoingPayment.debitAmount).toEqual({ value: '900', ...EUR })
    expect(finished.outgoingPayment.quoteId).not.toBe(started.quoteId)

    await expect.poll(() => restStatus(started.pendingId), { timeout: 10_000 }).toBe('paid')
    expect(await row(started.pendingId)).toMatchObject({ debitAmount: '900', debitAssetCode: 'EUR', receivedAmount: '1000' })
    expect(world.sandbox.balanceOf('buyer-eur')).toBe(EUR_BALANCE - 900n)
    expect((await events(started.pendingId)).at(-1)).toMatchObject({ type: 'payment.completed', amount: '1000', debitAmount: { value: '900', ...EUR } })
  })

  it('a rate that rises before the re-quote: QUOTE_EXPIRED, nothing sent', async () => {
    const started = await startEur('1000', 'intl-rate-up')
    const finishUrl = await world.approve(started.redirectUrl)
    world.clock.advance(6 * 60_000)
    world.sandbox.setRates({ base: 'USD', rates: { EUR: '0.92' } }) // 920 EUR cents > the 910 approved
    const finished = await (await fetch(finishUrl)).json()
    expect(finished).toMatchObject({ ok: false, state: 'FAILED', code: 'QUOTE_EXPIRED' })
    expect(world.sandbox.outgoingPayments().some((op) => op.metadata?.pendingId === started.pendingId)).toBe(false)
    expect(world.sandbox.balanceOf('buyer-eur')).toBe(EUR_BALANCE)
    expect((await events(started.pendingId)).at(-1)).toMatchObject({ type: 'payment.failed', failureCode: 'QUOTE_EXPIRED' })
  })

  it('GraphQL carries the same quote', async () => {
    const res = await world.service.graphql(
      `mutation ($input: StartCheckoutInput!) { startCheckout(input: $input) { ... on StartCheckoutPayload { quote { debitAmount { value assetCode assetScale } receiveAmount { value assetCode assetScale } } } } }`,
      { input: { offerId: 'intl-gql', sellerId: SELLER_ID, buyerWalletAddressUrl: eurBuyer, amount: '2000' } },
    )
    expect(res.data.startCheckout.quote).toEqual({ debitAmount: { value: '1820', ...EUR }, receiveAmount: { value: '2000', ...USD } })
  })
})
