// GraphiQL in real Chromium with the network cut off: everything it needs comes from this service.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_TOKEN, startTestService, type TestService } from '../harness.js'
import { launchChromium, openOfflinePage, saveScreenshot } from './browser.js'

let service: TestService
let browser: Browser
beforeAll(async () => {
  ;[service, browser] = await Promise.all([startTestService(), launchChromium()])
})
afterAll(async () => {
  await browser?.close()
  await service?.close()
})

describe('GraphiQL offline', () => {
  it('renders the editor and the docs, and runs an example operation with a token', async () => {
    const { page, external, failed, errors, close } = await openOfflinePage(browser)
    try {
      await page.goto(`${service.url}/graphql`)
      await page.locator('.graphiql-container .monaco-editor').first().waitFor({ timeout: 20_000 })
      // The ready-made operations, one tab each.
      for (const tab of ['StartCheckout', 'ReadPayment', 'OfferPayments', 'WebhookEvents', 'WatchPayment']) {
        await expect.poll(() => page.locator('.graphiql-tab').filter({ hasText: tab }).count()).toBe(1)
      }

      await page.fill('#api-token', API_TOKEN)
      await Promise.all([page.waitForEvent('load'), page.click('text=Use token')])
      await page.locator('.graphiql-container .monaco-editor').first().waitFor({ timeout: 20_000 })
      await expect.poll(() => page.locator('#token-state').innerText()).toContain('Using the token')

      // The docs explorer reads the schema (introspection, with the token).
      await page.click('[aria-label="Show Documentation Explorer"]')
      const docs = page.locator('.graphiql-doc-explorer')
      await expect.poll(() => docs.innerText(), { timeout: 15_000 }).toContain('query: Query')
      await docs.getByText('Query', { exact: true }).first().click()
      await expect.poll(() => docs.innerText()).toContain('webhookEvents')

      // The tabs are draggable: a synthetic click selects one without starting a drag.
      await page.locator('.graphiql-tab-button[title="WebhookEvents"]').dispatchEvent('click')
      const queryText = async () => (await page.locator('.graphiql-query-editor').innerText()).replace(/\u00a0/g, ' ')
      await expect.poll(queryText).toContain('webhookEvents(first: 20)')
      // GraphiQL settles the selected tab's operation name a moment after the editor shows it: a run
      // started before that names the previous tab's operation ("Cannot infer operation"), so run
      // again until the answer is this tab's.
      const response = page.locator('.graphiql-response')
      await expect
        .poll(
          async () => {
            await page.click('[aria-label^="Execute query"]')
            await page.waitForTimeout(500)
            return response.innerText()
          },
          { timeout: 15_000 },
        )
        .toContain('"webhookEvents"')
      expect(await response.innerText()).not.toContain('errors')
      await saveScreenshot(page, 'graphiql-desktop')

      expect(external).toEqual([])
      // Only the first page load, before the token was entered, was refused.
      expect(failed.every((line) => line.startsWith('401 ') && line.endsWith('/graphql'))).toBe(true)
      expect(errors.filter((message) => !message.includes('401'))).toEqual([])
    } catch (error) {
      await saveScreenshot(page, 'graphiql-failure')
      throw error
    } finally {
      await close()
    }
  }, 120_000)

  it('serves only the listed package files, publicly', async () => {
    const page = await (await fetch(`${service.url}/graphql`, { headers: { accept: 'text/html' } })).text()
    const assets = [...page.matchAll(/(?:src|href)="(\/graphiql-assets\/[^"]+)"/g)].map((m) => m[1])
    expect(assets).toHaveLength(2)
    for (const asset of assets) expect((await fetch(service.url + asset)).status).toBe(200)
    expect(page).not.toMatch(/(?:src|href)="https?:/)
    const base = assets[0].split('/').slice(0, 3).join('/')
    expect((await fetch(`${service.url}${base}/package.json`)).status).toBe(404)
    expect((await fetch(`${service.url}${base}/..%2F..%2Fpackage.json`)).status).toBe(404)
  })
})
