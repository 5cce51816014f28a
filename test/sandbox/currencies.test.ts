// A buyer whose wallet holds another asset than the seller's: the sandbox prices quotes with its
// rate table (as real wallets do with a rates service), rounds the debit up so the seller gets the
// full amount, limits grants in the buyer's asset and settles in each wallet's own asset.
import { beforeEach, describe, expect, it } from 'vitest'
import { isPendingGrant } from '@interledger/open-payments'
import { waitFor } from '../harness.js'
import { startDemoWallets } from '../../src/sandbox/demo-wallets.js'
import { debitForReceive, receiveForDebit } from '../../src/sandbox/money.js'
import { convertAmount, parseRateTable } from '../../src/sandbox/rates.js'
import {
  approveAndContinue,
  expectClientError,
  prepareCheckout,
  requestToken,
  resourceServerOf,
  type Checkout,
  type TestSandbox,
  useTestSandbox,
} from './sandbox-harness.js'

const RATES = { base: 'USD', rates: { EUR: '0.91' } }
const USD = { assetCode: 'USD', assetScale: 2 }
const EUR = { assetCode: 'EUR', assetScale: 2 }

const sandboxes = useTestSandbox()
let t: TestSandbox
beforeEach(async () => {
  t = await sandboxes.restart({ rates: RATES })
  t.sandbox.addWallet({ name: 'buyer-eur', publicName: 'Käufer', assetCode: 'EUR', assetScale: 2, balance: 100_000n })
})

function createOutgoing(checkout: Checkout, accessToken: string, quoteId = checkout.quote.id) {
  return checkout.client.outgoingPayment.create(
    { url: resourceServerOf(t), accessToken },
    { walletAddress: t.sandbox.walletAddressUrl('buyer-eur'), quoteId },
  )
}

async function quoteAgain(checkout: Checkout) {
  const token = await requestToken(t, checkout.client, [{ type: 'quote', actions: ['create', 'read'] }])
  return checkout.client.quote.create(
    { url: resourceServerOf(t), accessToken: token.value },
    { walletAddress: t.sandbox.walletAddressUrl('buyer-eur'), receiver: checkout.incomingPayment.id, method: 'ilp' },
  )
}

describe('cross-currency quotes', () => {
  it('debits the buyer in EUR at the table rate for exactly the seller\'s USD', async () => {
    const { quote } = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '1000' })
    expect(quote.debitAmount).toEqual({ value: '910', assetCode: 'EUR', assetScale: 2 })
    expect(quote.receiveAmount).toEqual({ value: '1000', assetCode: 'USD', assetScale: 2 })
    expect(quote.walletAddress).toBe(t.sandbox.walletAddressUrl('buyer-eur'))
  })

  it('rounds the debit up, never down: 10.01 USD at 0.91 costs 9.11 EUR, not 9.10', async () => {
    const { quote } = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '1001' })
    expect(quote.debitAmount.value).toBe('911') // 910.91 rounded up
    expect(quote.receiveAmount.value).toBe('1001')
  })

  it('every debit covers the receive amount, and is the smallest that does', () => {
    const tables = [RATES, { base: 'EUR', rates: { USD: '1.0837', JPY: 162.35, BTC: '0.0000157' } }].map(parseRateTable)
    const pairs = [
      [USD, EUR],
      [EUR, USD],
      [USD, { assetCode: 'JPY', assetScale: 0 }],
      [{ assetCode: 'JPY', assetScale: 0 }, USD],
      [USD, { assetCode: 'BTC', assetScale: 8 }],
      [USD, { assetCode: 'USD', assetScale: 4 }],
    ]
    for (const rates of tables) {
      for (const [receiveAsset, debitAsset] of pairs) {
        if (convertAmount(1n, receiveAsset, debitAsset, rates, 'up') === undefined) continue
        for (let receive = 1n; receive <= 1500n; receive += 7n) {
          const debit = debitForReceive(receive, receiveAsset, debitAsset, { rates, fee: { fixed: 0n, basisPoints: 0 } })
          const label = `${receive} ${receiveAsset.assetCode}/${receiveAsset.assetScale} from ${debitAsset.assetCode}/${debitAsset.assetScale}`
          expect(convertAmount(debit, debitAsset, receiveAsset, rates, 'down')! >= receive, label).toBe(true)
          expect(debit === 0n || convertAmount(debit - 1n, debitAsset, receiveAsset, rates, 'down')! < receive, label).toBe(true)
        }
      }
    }
  })

  it('charges the fee in the buyer\'s asset, on top of the converted amount', async () => {
    t.sandbox.setQuoteFee({ fixed: 5n, basisPoints: 100 })
    const { quote } = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '1000' })
    expect(quote.debitAmount).toEqual({ value: String(910 + 5 + 10), assetCode: 'EUR', assetScale: 2 })
  })

  it('a fixed debit buys what it covers, rounded down', async () => {
    const { client } = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '100000' })
    const incomingToken = await requestToken(t, client, [{ type: 'incoming-payment', actions: ['create'] }])
    const open = await client.incomingPayment.create(
      { url: resourceServerOf(t), accessToken: incomingToken.value },
      { walletAddress: t.sandbox.walletAddressUrl('seller') },
    )
    const token = await requestToken(t, client, [{ type: 'quote', actions: ['create'] }])
    const quote = await client.quote.create(
      { url: resourceServerOf(t), accessToken: token.value },
      { walletAddress: t.sandbox.walletAddressUrl('buyer-eur'), receiver: open.id, method: 'ilp', debitAmount: { value: '100', ...EUR } },
    )
    expect(quote.debitAmount).toEqual({ value: '100', ...EUR })
    expect(quote.receiveAmount).toEqual({ value: '109', ...USD }) // 1.0989… USD rounded down
    expect(receiveForDebit(100n, EUR, USD, { rates: t.sandbox.rates(), fee: { fixed: 0n, basisPoints: 0 } })).toBe(109n)

    // An amount in the wrong asset is refused rather than read as another currency.
    await expectClientError(
      client.quote.create(
        { url: resourceServerOf(t), accessToken: token.value },
        { walletAddress: t.sandbox.walletAddressUrl('buyer-eur'), receiver: open.id, method: 'ilp', debitAmount: { value: '100', ...USD } },
      ),
      400,
      'invalid_amount',
    )
  })

  it('refuses a quote between assets the rate table does not know, changing nothing', async () => {
    t.sandbox.addWallet({ name: 'buyer-chf', assetCode: 'CHF', balance: 100_000n })
    const quotes = t.sandbox.counts().quotes
    const err = await expectClientError(prepareCheckout(t, { buyer: 'buyer-chf' }), 400, 'invalid_request')
    expect(err.description).toBe('no exchange rate between USD and CHF')
    expect(t.sandbox.counts().quotes).toBe(quotes)
  })
})

describe('cross-currency payment', () => {
  it('limits the grant to the debit in the buyer\'s asset and settles each wallet in its own asset', async () => {
    const checkout = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '1000' })
    if (!isPendingGrant(checkout.grant)) throw new Error('expected an interactive grant')
    expect(t.sandbox.grantAccessOf(checkout.grant.interact.redirect)[0].limits?.debitAmount).toEqual({ value: '910', ...EUR })

    // The consent page speaks the buyer's currency, and says what the seller gets.
    const html = await (await fetch(checkout.grant.interact.redirect)).text()
    expect(html).toContain('<strong id="amount">9.10 EUR</strong>')
    expect(html).toContain('<dd id="receive-amount"><strong>10.00 USD</strong></dd>')

    const token = await approveAndContinue(t, checkout)
    const outgoing = await createOutgoing(checkout, token.value)
    expect(outgoing).toMatchObject({
      debitAmount: { value: '910', ...EUR },
      receiveAmount: { value: '1000', ...USD },
      sentAmount: { value: '0', ...EUR },
      grantSpentDebitAmount: { value: '0', ...EUR },
      grantSpentReceiveAmount: { value: '0', ...USD },
    })

    const paid = await waitFor(async () => {
      const payment = await checkout.client.outgoingPayment.get({ url: outgoing.id, accessToken: token.value })
      return payment.sentAmount.value !== '0' && payment
    }, 3000)
    expect(paid.sentAmount).toEqual({ value: '910', ...EUR })
    expect(t.sandbox.balanceOf('buyer-eur')).toBe(100_000n - 910n)
    expect(t.sandbox.balanceOf('seller')).toBe(1000n)

    const readToken = await requestToken(t, checkout.client, [{ type: 'incoming-payment', actions: ['read'] }])
    const received = await checkout.client.incomingPayment.get({ url: checkout.incomingPayment.id, accessToken: readToken.value })
    expect(received).toMatchObject({ completed: true, receivedAmount: { value: '1000', ...USD } })

    // The grant counts what it spent in each side's asset.
    expect(await checkout.client.outgoingPayment.getGrantSpentAmounts({ url: resourceServerOf(t), accessToken: token.value })).toEqual({
      spentDebitAmount: { value: '910', ...EUR },
      spentReceiveAmount: { value: '1000', ...USD },
    })
    const spent = await fetch(`${t.sandbox.origin}/sandbox/wallets/buyer-eur/balance`)
    expect(await spent.json()).toEqual({ balance: String(100_000 - 910), ...EUR })
  })

  it('refuses 403 a grant limited in the seller\'s asset: the limit is in what leaves the buyer\'s wallet', async () => {
    const probe = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '1000' })
    const checkout = await prepareCheckout(t, {
      buyer: 'buyer-eur',
      amount: '1000',
      client: probe.client,
      limits: { debitAmount: { value: '1000', ...USD } },
    })
    const token = await approveAndContinue(t, checkout)
    await expectClientError(createOutgoing(checkout, token.value), 403)
    expect(t.sandbox.counts().outgoingPayments).toBe(0)
  })

  it('prices later quotes at a moved rate; the grant admits the new debit only if it fits', async () => {
    const checkout = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '1000' })
    const token = await approveAndContinue(t, checkout)

    t.sandbox.setRates({ base: 'USD', rates: { EUR: '0.95' } })
    const dearer = await quoteAgain(checkout)
    expect(dearer.debitAmount).toEqual({ value: '950', ...EUR })
    expect(checkout.quote.debitAmount.value).toBe('910') // a quote keeps its price
    await expectClientError(createOutgoing(checkout, token.value, dearer.id), 403)

    t.sandbox.setRates({ base: 'USD', rates: { EUR: 0.9 } })
    const cheaper = await quoteAgain(checkout)
    expect(cheaper.debitAmount).toEqual({ value: '900', ...EUR })
    const outgoing = await createOutgoing(checkout, token.value, cheaper.id)
    expect(outgoing.debitAmount).toEqual({ value: '900', ...EUR })
    expect(t.sandbox.counts().outgoingPayments).toBe(1)
  })
})

describe('rates admin route', () => {
  it('reads and replaces the table over HTTP; a bad table is refused and changes nothing', async () => {
    const url = `${t.sandbox.origin}/sandbox/rates`
    expect(await (await fetch(url)).json()).toEqual(RATES)

    const put = (body: unknown) => fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const ok = await put({ base: 'EUR', rates: { USD: 1.1, GBP: '0.86' } })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ base: 'EUR', rates: { USD: '1.1', GBP: '0.86' } })

    for (const bad of [{ base: 'EUR', rates: { USD: 0 } }, { base: 'EUR', rates: { USD: '-1' } }, { base: 'EUR', rates: { USD: 'abc' } }, { rates: {} }]) {
      const res = await put(bad)
      expect(res.status, JSON.stringify(bad)).toBe(400)
      expect((await res.json()).error.code).toBe('invalid_request')
    }
    expect(t.sandbox.rates()).toEqual({ base: 'EUR', rates: { USD: '1.1', GBP: '0.86' } })

    // Through the new base: 10.00 USD at 1 EUR = 1.1 USD costs 9.10 EUR (9.0909… rounded up).
    const { quote } = await prepareCheckout(t, { buyer: 'buyer-eur', amount: '1000' })
    expect(quote.debitAmount.value).toBe('910')
  })
})

describe('demo wallets (npm start, npm run sandbox)', () => {
  it('include a EUR buyer that the demo rates let pay the USD seller', async () => {
    const demo = await startDemoWallets({ port: 0, keysDir: t.keysDir })
    try {
      const eurBuyer = await (await fetch(demo.eurBuyerWalletAddressUrl.replace('https:', 'http:'))).json()
      expect(eurBuyer).toMatchObject({ id: demo.eurBuyerWalletAddressUrl, assetCode: 'EUR', assetScale: 2 })
      expect(demo.sandbox.balanceOf('buyer-eur')).toBe(1_000_000n)
      expect(await (await fetch(`${demo.sandbox.origin}/sandbox/rates`)).json()).toMatchObject({ base: 'USD', rates: { EUR: '0.91' } })
    } finally {
      await demo.sandbox.close()
    }
  })
})
