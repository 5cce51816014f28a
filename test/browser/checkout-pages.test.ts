// What the buyer sees, in real Chromium with the network cut off: the sandbox wallet's consent
// screen, then the finish page turning to its final words by itself; at phone and desktop widths.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from '../checkout/world.js'
import { findFreePort } from '../harness.js'
import { DESKTOP, launchChromium, openOfflinePage, PHONE, saveScreenshot, scrollsSideways } from './browser.js'

const BUYER_BALANCE = 10n ** 12n
let world: CheckoutWorld
let browser: Browser
beforeAll(async () => {
  // The settlement worker polls every 100 ms here; the sandbox funds after 4 s, so the finish
  // page is seen "sending" first and must turn to "complete" without a reload.
  // The wallet redirects the browser to BASE_URL, so the service listens on a port known in advance.
  const port = await findFreePort()
  ;[world, browser] = await Promise.all([
    startCheckoutWorld({ sandbox: { fundingDelayMs: 4000 }, env: { PORT: String(port), BASE_URL: `http://127.0.0.1:${port}` } }),
    launchChromium(),
  ])
  world.sandbox.setBalance('buyer', BUYER_BALANCE)
})
afterAll(async () => {
  await browser?.close()
  await world?.close()
})

const startCheckout = (body: Record<string, unknown> = {}, offerId = 'job-browser') => world.startOk({ amount: '123456789', ...body }, offerId)

describe('checkout in the browser', () => {
  for (const [name, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`approve on the consent screen, then the finish page completes by itself (${name})`, async () => {
      const { pendingId, redirectUrl } = await startCheckout({}, `job-${name}`)
      const { page, external, failed, errors, close } = await openOfflinePage(browser, { viewport, isMobile: name === 'phone' })
      try {
        await page.goto(redirectUrl)
        await expect.poll(() => page.locator('main').innerText()).toContain('1,234,567.89 USD')
        const consent = await page.locator('main').innerText()
        expect(consent).toContain('Buyer') // from which wallet
        expect(consent).toContain('Seller Shop') // to whom
        expect(await scrollsSideways(page)).toBe(false)
        const approve = page.getByRole('button', { name: 'Approve' })
        expect((await approve.boundingBox())!.height).toBeGreaterThanOrEqual(40)
        await saveScreenshot(page, `consent-${name}`)

        await approve.click()
        // The wallet sends the browser to the service's finish redirect, which shows the page; the
        // page settles on its own URL, which carries the finish secret the wallet brought back.
        await page.waitForURL((url) => url.pathname === `/payments/finish/${pendingId}`)
        expect(new URL(page.url()).searchParams.get('secret')).toBe(world.finishSecretOf(redirectUrl))
        await expect.poll(() => page.locator('h1').innerText()).toBe('Sending your payment')
        expect(await scrollsSideways(page)).toBe(false)
        await saveScreenshot(page, `finish-sending-${name}`)

        await expect.poll(() => page.locator('h1').innerText(), { timeout: 15_000 }).toBe('Payment complete')
        const text = await page.locator('main').innerText()
        expect(text).toContain('You paid 1,234,567.89 USD.')
        expect(text).toContain(pendingId)
        expect(await scrollsSideways(page)).toBe(false)
        await saveScreenshot(page, `finish-complete-${name}`)

        expect(external).toEqual([])
        expect(failed).toEqual([])
        expect(errors).toEqual([])
      } finally {
        await close()
      }
    }, 90_000)
  }

  it('reject on the consent screen: the page says you declined and nothing was charged', async () => {
    const { redirectUrl } = await startCheckout({}, 'job-reject')
    const { page, failed, close } = await openOfflinePage(browser, { viewport: PHONE, isMobile: true })
    try {
      await page.goto(redirectUrl)
      await page.getByRole('button', { name: 'Reject' }).click()
      await expect.poll(() => page.locator('h1').innerText()).toBe('Payment cancelled')
      expect(await page.locator('.message').innerText()).toBe('You declined the payment in your wallet. Nothing was charged.')
      await saveScreenshot(page, 'finish-rejected-phone')
      expect(failed).toEqual([])
    } finally {
      await close()
    }
  }, 60_000)

  it('a payment the buyer wallet cannot fund turns to "failed" by itself, in words, without minor units', async () => {
    world.sandbox.setBalance('buyer', 50n)
    try {
      const { redirectUrl } = await startCheckout({ amount: '99999999999' }, 'job-fail')
      const { page, close } = await openOfflinePage(browser, { viewport: PHONE, isMobile: true })
      try {
        await page.goto(redirectUrl)
        await page.getByRole('button', { name: 'Approve' }).click()
        await expect.poll(() => page.locator('h1').innerText(), { timeout: 15_000 }).toBe('Payment failed')
        const message = await page.locator('.message').innerText()
        expect(message).toBe('Your wallet could not send the payment. Nothing was charged.')
        expect(await page.locator('main').innerText()).toContain('999,999,999.99 USD')
        await saveScreenshot(page, 'finish-failed-phone')
      } finally {
        await close()
      }
    } finally {
      world.sandbox.setBalance('buyer', BUYER_BALANCE)
    }
  }, 60_000)

  it('without scripts the page refreshes itself until the payment is final', async () => {
    const { pendingId, redirectUrl } = await startCheckout({}, 'job-noscript')
    const finishUrl = await world.approve(redirectUrl)
    const { page, close } = await openOfflinePage(browser, { viewport: PHONE, javaScriptEnabled: false, isMobile: true })
    try {
      await page.goto(finishUrl)
      expect(await page.locator('h1').innerText()).toBe('Sending your payment')
      await page.waitForURL((url) => url.pathname === `/payments/finish/${pendingId}`, { timeout: 10_000 })
      await expect.poll(async () => page.locator('h1').innerText(), { timeout: 20_000 }).toBe('Payment complete')
      await saveScreenshot(page, 'finish-complete-noscript')
    } finally {
      await close()
    }
  }, 60_000)

  it('the progress answer needs the finish secret and says only what the page shows; the page offers the way back to the shop', async () => {
    const { pendingId, redirectUrl } = await startCheckout({ returnUrl: 'https://shop.example/jobs/7?from=pay' }, 'job-progress')
    await fetch(await world.approve(redirectUrl))
    const secret = world.finishSecretOf(redirectUrl)
    expect((await fetch(`${world.service.url}/payments/finish/${pendingId}/progress`)).status).toBe(404)
    expect((await fetch(`${world.service.url}/payments/finish/${pendingId}`)).status).toBe(404)
    const progress = await fetch(`${world.service.url}/payments/finish/${pendingId}/progress?secret=${secret}`)
    expect(progress.status).toBe(200)
    expect(progress.headers.get('cache-control')).toBe('no-store')
    const body = await progress.json()
    expect(Object.keys(body).sort()).toEqual(['final', 'message', 'returnUrl', 'state', 'title', 'tone'])
    expect(JSON.stringify(body)).not.toMatch(/outgoing|interact|token|hash/i)

    const { page, failed, close } = await openOfflinePage(browser, { viewport: PHONE, isMobile: true })
    try {
      await page.route('https://shop.example/**', (route) => route.fulfill({ body: 'the shop' }))
      await page.goto(`${world.service.url}/payments/finish/${pendingId}?secret=${secret}`)
      await expect.poll(() => page.locator('h1').innerText(), { timeout: 15_000 }).toBe('Payment complete')
      const back = page.getByRole('link', { name: 'Back to the shop' })
      const target = new URL((await back.getAttribute('href'))!)
      expect(target.origin + target.pathname).toBe('https://shop.example/jobs/7')
      expect(Object.fromEntries(target.searchParams)).toMatchObject({ from: 'pay', pendingId, status: 'paid', state: 'COMPLETED' })
      await saveScreenshot(page, 'finish-complete-return-phone')
      expect(failed).toEqual([])
    } finally {
      await close()
    }

    expect((await fetch(`${world.service.url}/payments/finish/01ARZ3NDEKTSV4RRFFQ69G5FAV/progress`)).status).toBe(404)
    expect((await fetch(`${world.service.url}/payments/finish/not-an-id/progress`)).status).toBe(404)
    const favicon = await fetch(`${world.service.url}/favicon.ico`)
    expect(favicon.status).toBe(200)
    expect(favicon.headers.get('content-type')).toBe('image/x-icon')
  }, 60_000)

  it('a forged finish link gets a plain page that says so, at phone width', async () => {
    const { pendingId } = await startCheckout({}, 'job-forged')
    const { page, close } = await openOfflinePage(browser, { viewport: PHONE, isMobile: true })
    try {
      const res = await page.goto(`${world.service.url}/payments/finish?pendingId=${pendingId}&hash=forged&interact_ref=x`)
      expect(res!.status()).toBe(400)
      expect(await page.locator('h1').innerText()).toBe('This payment link does not work')
      expect(await page.locator('.message').innerText()).toContain('this redirect did not come from the wallet. If you were paying a shop')
      expect(await scrollsSideways(page)).toBe(false)
      await saveScreenshot(page, 'finish-link-problem-phone')

      // A result= without the checkout's finish secret (anyone who saw the pendingId) is refused the same way.
      const forged = await page.goto(`${world.service.url}/payments/finish?pendingId=${pendingId}&result=grant_rejected`)
      expect(forged!.status()).toBe(400)
      expect(await page.locator('h1').innerText()).toBe('This payment link does not work')
      expect(await page.locator('.message').innerText()).toContain('its result was not accepted and nothing was changed.')
      expect((await world.service.db.payment.findUniqueOrThrow({ where: { id: pendingId } })).state).toBe('AWAITING_APPROVAL')
    } finally {
      await close()
    }
  }, 60_000)
})
