// Real Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (no
// browser download). Every page runs offline: any request that would leave this machine is
// blocked and recorded, and so is every failed response and console error, for assertions.
import fs from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Screenshots land here (gitignored; CI keeps it as an artifact). */
export const SCREENSHOT_DIR = path.resolve('test-artifacts/screenshots')

export const PHONE = { width: 390, height: 844 }
export const DESKTOP = { width: 1280, height: 800 }

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM_PATH}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`)
  }
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}

export interface OfflinePage {
  page: Page
  context: BrowserContext
  /** URLs the page tried to fetch from outside this machine (all blocked). */
  external: string[]
  /** Responses with a 4xx/5xx status, as "status url". */
  failed: string[]
  /** console.error messages and uncaught page errors. */
  errors: string[]
  close(): Promise<void>
}

const isLocal = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || ['data:', 'blob:', 'about:'].includes(url.protocol)

export async function openOfflinePage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean; isMobile?: boolean } = {},
): Promise<OfflinePage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    isMobile: options.isMobile ?? false,
    hasTouch: options.isMobile ?? false,
    deviceScaleFactor: options.isMobile ? 2 : 1,
  })
  const external: string[] = []
  const failed: string[] = []
  const errors: string[] = []
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url())
    if (isLocal(url)) return route.continue()
    external.push(url.href)
    return route.abort('internetdisconnected')
  })
  const page = await context.newPage()
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`)
  })
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(String(error)))
  return { page, context, external, failed, errors, close: () => context.close() }
}

export async function saveScreenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const file = path.join(SCREENSHOT_DIR, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}

/** True when the page is wider than its viewport (the user would have to scroll sideways). */
export const scrollsSideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth)
