// The finish redirect under hostile and unlucky conditions: every result=, forged results and
// hashes, the buyer's finish page and its secret, replays and concurrent finishes.
import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCheckoutWorld, type CheckoutWorld } from './world.js'

let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

const row = (id: string) => world.service.db.payment.findUniqueOrThrow({ where: { id } })
const eventsOf = async (id: string) => (await world.service.db.webhookEvent.findMany({ where: { paymentId: id }, orderBy: { id: 'asc' } })).map((e) => e.type)

describe('wallet results', () => {
  it('grant_rejected: the payment is rejected with a reason, once', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'reject-1')
    const finishUrl = await world.reject(redirectUrl)
    expect(finishUrl).toContain(`pendingId=${pendingId}&secret=${world.finishSecretOf(redirectUrl)}&result=grant_rejected`)
    const res = await fetch(finishUrl)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      ok: false,
      pendingId,
      status: 'failed',
      state: 'REJECTED',
      error: 'The buyer rejected the payment in their wallet',
      code: 'GRANT_REJECTED',
    })
    expect(await fetch(finishUrl).then((r) => r.status)).toBe(200)
    expect(await eventsOf(pendingId)).toEqual(['payment.created', 'payment.rejected'])
    const status = await (await world.service.request(`/payments/${pendingId}/status`)).json()
    expect(status.status).toBe('failed')
    expect(world.sandbox.outgoingPayments().some((op) => op.metadata?.pendingId === pendingId)).toBe(false)
  })

  it.each([
    ['grant_invalid', '', 'FAILED', 'GRANT_INVALID'],
    ['invalid_interaction', '&message=interaction%20expired', 'EXPIRED', 'CONSENT_EXPIRED'],
    ['invalid_interaction', '', 'FAILED', 'INTERACTION_FAILED'],
    ['unknown_interaction', '&message=unknown%20interaction', 'FAILED', 'GRANT_REVOKED'],
    ['request_denied', '', 'FAILED', 'REQUEST_DENIED'],
  ])('result=%s%s ends the payment as %s (%s)', async (result, extra, state, code) => {
    const { pendingId, redirectUrl } = await world.startOk({}, `result-${result}`)
    const res = await fetch(`${world.walletRedirect(redirectUrl, {})}&result=${result}${extra}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ok: false, state, code, status: 'failed' })
    expect((await row(pendingId)).state).toBe(state)
  })

  it('a result= for a payment already made changes nothing and discloses no payment details', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'result-late')
    expect((await fetch(await world.approve(redirectUrl))).status).toBe(200)
    const res = await fetch(world.walletRedirect(redirectUrl, { result: 'grant_rejected' }))
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).not.toHaveProperty('outgoingPayment')
    expect(['PROCESSING', 'COMPLETED']).toContain(body.state)
    expect(['PROCESSING', 'COMPLETED']).toContain((await row(pendingId)).state)
  })

  it('an unknown result is a 400 and changes nothing', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'result-unknown')
    const res = await fetch(world.walletRedirect(redirectUrl, { result: 'all_good' }))
    expect(res.status).toBe(400)
    expect((await res.json()).code).toBe('INVALID_FINISH')
    expect((await row(pendingId)).state).toBe('AWAITING_APPROVAL')
  })
})

describe('the finish secret: only the wallet redirect can end a checkout', () => {
  const cleanupRows = (id: string) => world.service.db.walletCleanup.count({ where: { paymentId: id } })

  it('a forged result= without the secret, with a wrong one or with another checkout\'s is a 400 and changes nothing', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'forged-result')
    const other = await world.startOk({}, 'forged-result-other')
    const before = await row(pendingId)
    const finish = `${world.service.url}/payments/finish?pendingId=${pendingId}`
    const refused = async (url: string) => {
      const res = await fetch(url)
      expect(res.status, url).toBe(400)
      expect(await res.json(), url).toEqual({ error: expect.stringContaining('not accepted'), code: 'INVALID_FINISH_SECRET' })
    }
    // What anyone who saw the pendingId can send: every result= a wallet could.
    for (const result of ['grant_rejected', 'invalid_interaction&message=interaction%20expired', 'unknown_interaction&message=unknown%20interaction', 'grant_invalid', 'request_denied']) {
      await refused(`${finish}&result=${result}`)
    }
    // Guessed, truncated, empty, or another checkout's.
    const secret = world.finishSecretOf(redirectUrl)
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32)
    for (const wrong of ['', crypto.randomBytes(32).toString('base64url'), secret.slice(0, -1), `${secret}A`, world.finishSecretOf(other.redirectUrl)]) {
      await refused(`${finish}&secret=${wrong}&result=grant_rejected`)
    }
    // A browser is told plainly, on the problem page.
    const page = await fetch(`${finish}&result=grant_rejected`, { headers: { accept: 'text/html' } })
    expect(page.status).toBe(400)
    const html = await page.text()
    expect(html).toContain('This payment link does not work')
    expect(html).toContain('nothing was changed')

    expect(await row(pendingId)).toEqual(before)
    expect((await row(pendingId)).state).toBe('AWAITING_APPROVAL')
    expect(await cleanupRows(pendingId)).toBe(0)
    expect(await eventsOf(pendingId)).toEqual(['payment.created'])
    expect(world.sandbox.grants().find((g) => g.continueUri === before.continueUri)).toMatchObject({ finalized: false })

    // The buyer's own decision, through the wallet, still counts.
    const rejected = await fetch(await world.reject(redirectUrl))
    expect(rejected.status).toBe(200)
    expect(await rejected.json()).toMatchObject({ ok: false, state: 'REJECTED', code: 'GRANT_REJECTED' })
    expect(await eventsOf(pendingId)).toEqual(['payment.created', 'payment.rejected'])
  })

  it('GraphQL finishCheckout (a client relaying the redirect) follows the same rule', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'secret-graphql')
    const FINISH = `mutation ($input: FinishCheckoutInput!) { finishCheckout(input: $input) {
      __typename ... on AppError { code } ... on FinishCheckoutPayload { payment { state } } } }`
    const forged = await world.service.graphql(FINISH, { input: { pendingId, result: 'grant_rejected' } })
    expect(forged.data.finishCheckout).toEqual({ __typename: 'AppError', code: 'INVALID_FINISH_SECRET' })
    expect((await row(pendingId)).state).toBe('AWAITING_APPROVAL')
    const relayed = await world.service.graphql(FINISH, { input: { pendingId, secret: world.finishSecretOf(redirectUrl), result: 'grant_rejected' } })
    expect(relayed.data.finishCheckout).toEqual({ __typename: 'FinishCheckoutPayload', payment: { state: 'REJECTED' } })
  })

  it('the wallet redirect carries the secret the service put in its finish URI; approval works with it', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'secret-approve')
    const finishUrl = new URL(await world.approve(redirectUrl))
    expect(finishUrl.searchParams.get('pendingId')).toBe(pendingId)
    expect(finishUrl.searchParams.get('secret')).toBe(world.finishSecretOf(redirectUrl))
    const res = await fetch(finishUrl)
    expect(res.status).toBe(200)
    expect((await res.json()).ok).toBe(true)
  })

  it('only its SHA-256 is stored, and no two checkouts share a secret', async () => {
    const a = await world.startOk({}, 'secret-stored-a')
    const b = await world.startOk({}, 'secret-stored-b')
    const [secretA, secretB] = [world.finishSecretOf(a.redirectUrl), world.finishSecretOf(b.redirectUrl)]
    expect(secretA).not.toBe(secretB)
    const stored = await row(a.pendingId)
    expect(stored.finishSecretHash).toBe(crypto.createHash('sha256').update(secretA).digest('hex'))
    expect(JSON.stringify(stored)).not.toContain(secretA)
  })

  it('the finish page and its progress answer need the secret: without it, or with a wrong one, 404 and nothing else', async () => {
    const { pendingId, redirectUrl } = await world.startOk({ returnUrl: 'https://shop.example/jobs/9' }, 'secret-page')
    const secret = world.finishSecretOf(redirectUrl)
    const page = `${world.service.url}/payments/finish/${pendingId}`
    const progress = `${page}/progress`
    const unknown = await (await fetch(`${world.service.url}/payments/finish/01ARZ3NDEKTSV4RRFFQ69G5FAV/progress`)).json()
    for (const url of [page, progress, `${page}?secret=${crypto.randomBytes(32).toString('base64url')}`, `${progress}?secret=${secret.slice(1)}`, `${progress}?secret=`]) {
      const res = await fetch(url, { headers: { accept: 'text/html' } })
      expect(res.status, url).toBe(404)
      const body = await res.json()
      expect(body, url).toEqual({ error: 'Payment not found', code: 'PAYMENT_NOT_FOUND', details: { pendingId } })
      expect({ ...body, details: { pendingId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' } }).toEqual(unknown) // the same answer as for no payment at all
    }
    const shown = await fetch(`${progress}?secret=${secret}`)
    expect(shown.status).toBe(200)
    expect(await shown.json()).toMatchObject({ state: 'AWAITING_APPROVAL', returnUrl: expect.stringContaining('https://shop.example/jobs/9') })
    const html = await fetch(`${page}?secret=${secret}`)
    expect(html.status).toBe(200)
    expect(html.headers.get('referrer-policy')).toBe('no-referrer')
    const text = await html.text()
    // The page's own URLs (where it settles, what it polls, where it refreshes to) carry the secret.
    expect(text).toContain(`data-page="/payments/finish/${pendingId}?secret=${secret}"`)
    expect(text).toContain(`data-progress="/payments/finish/${pendingId}/progress?secret=${secret}"`)
    expect(text).toContain(`url=/payments/finish/${pendingId}?secret=${secret}"`)
  })

  it('the secret reaches no log line, webhook or GraphQL answer', async () => {
    const approved = await world.startOk({}, 'secret-quiet-approve')
    const rejected = await world.startOk({}, 'secret-quiet-reject')
    await fetch(await world.approve(approved.redirectUrl))
    await fetch(await world.reject(rejected.redirectUrl), { headers: { accept: 'text/html' } })
    for (const { pendingId, redirectUrl } of [approved, rejected]) {
      const secret = world.finishSecretOf(redirectUrl)
      await fetch(`${world.service.url}/payments/finish/${pendingId}/progress?secret=${secret}`)
      expect(world.service.logs.join('\n')).not.toContain(secret)
      const payloads = (await world.service.db.webhookEvent.findMany({ where: { paymentId: pendingId } })).map((e) => e.payload)
      expect(payloads.length).toBeGreaterThan(1)
      expect(payloads.join('\n')).not.toContain(secret)
      const answer = await world.service.graphql('query ($id: String!) { payment(pendingId: $id) { pendingId redirectUrl state outgoingPayment } }', { id: pendingId })
      expect(answer.data.payment.pendingId).toBe(pendingId)
      expect(JSON.stringify(answer)).not.toContain(secret)
    }
  })

  it('a payment started before finish secrets: its approval still works (a page that does not follow), its result= is refused', async () => {
    const legacy = async (offerId: string) => {
      const started = await world.startOk({}, offerId)
      await world.service.db.payment.update({ where: { id: started.pendingId }, data: { finishSecretHash: null } })
      return started
    }
    const approved = await legacy('legacy-approve')
    const page = await fetch(await world.approve(approved.redirectUrl), { headers: { accept: 'text/html' } })
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('Sending your payment')
    expect(html).not.toContain('data-progress')
    expect(html).not.toContain('http-equiv="refresh"')
    expect((await row(approved.pendingId)).state).not.toBe('AWAITING_APPROVAL')

    const rejected = await legacy('legacy-reject')
    expect((await fetch(await world.reject(rejected.redirectUrl))).status).toBe(400)
    expect((await row(rejected.pendingId)).state).toBe('AWAITING_APPROVAL')
    expect((await fetch(`${world.service.url}/payments/finish/${rejected.pendingId}/progress?secret=${world.finishSecretOf(rejected.redirectUrl)}`)).status).toBe(404)
  })

  it('the redirect back to the shop never carries the secret', async () => {
    const { redirectUrl } = await world.startOk({ returnUrl: 'https://shop.example/jobs/10' }, 'secret-return')
    const res = await fetch(await world.reject(redirectUrl), { headers: { accept: 'text/html' }, redirect: 'manual' })
    expect(res.status).toBe(303)
    const location = res.headers.get('location')!
    expect(location.startsWith('https://shop.example/jobs/10?')).toBe(true)
    expect(location).not.toContain(world.finishSecretOf(redirectUrl))
    expect(new URL(location).searchParams.has('secret')).toBe(false)
  })
})

describe('finish hash', () => {
  it('refuses a missing or wrong hash with 400 and changes nothing', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'forged-1')
    const finishUrl = new URL(await world.approve(redirectUrl))
    const ref = finishUrl.searchParams.get('interact_ref')!
    const good = finishUrl.searchParams.get('hash')!
    const before = await row(pendingId)
    const cases = [
      `pendingId=${pendingId}&interact_ref=${ref}`,
      `pendingId=${pendingId}&hash=${encodeURIComponent(good)}`,
      `pendingId=${pendingId}&interact_ref=${ref}&hash=${encodeURIComponent(Buffer.alloc(32, 1).toString('base64'))}`,
      `pendingId=${pendingId}&interact_ref=other-ref&hash=${encodeURIComponent(good)}`,
      `pendingId=${pendingId}&interact_ref=${ref}&hash=not-base64!`,
    ]
    for (const query of cases) {
      const res = await fetch(`${world.service.url}/payments/finish?${query}`)
      expect(res.status, query).toBe(400)
      expect(['INVALID_FINISH', 'INVALID_FINISH_HASH']).toContain((await res.json()).code)
    }
    expect(await row(pendingId)).toEqual(before)
    expect(world.sandbox.counts().continuations).toBeGreaterThanOrEqual(0)
    // The genuine redirect still works afterwards.
    expect((await fetch(finishUrl.href.replace(finishUrl.origin, world.service.url))).status).toBe(200)
  })

  it('accepts the URL-safe alphabet and a + turned into a space', async () => {
    const { redirectUrl } = await world.startOk({}, 'alphabet-1')
    const finishUrl = new URL(await world.approve(redirectUrl))
    const hash = finishUrl.searchParams.get('hash')!
    const urlSafe = hash.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    finishUrl.searchParams.set('hash', urlSafe)
    const res = await fetch(world.atService(finishUrl.href))
    expect(res.status).toBe(200)
    expect((await res.json()).ok).toBe(true)
  })

  it('a verified hash is proof enough: the approval counts without the secret, and discloses as before', async () => {
    const { redirectUrl } = await world.startOk({}, 'hash-no-secret')
    const finishUrl = new URL(await world.approve(redirectUrl))
    finishUrl.searchParams.delete('secret')
    const res = await fetch(finishUrl)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).toMatchObject({ ok: true, outgoingPayment: { id: expect.any(String) } })
  })

  it('answers an unknown or malformed pendingId with 404 / 400', async () => {
    expect((await fetch(`${world.service.url}/payments/finish?pendingId=01ARZ3NDEKTSV4RRFFQ69G5FAV&result=grant_rejected`)).status).toBe(404)
    expect((await fetch(`${world.service.url}/payments/finish?pendingId=../../etc&result=grant_rejected`)).status).toBe(400)
    expect((await fetch(`${world.service.url}/payments/finish`)).status).toBe(400)
  })
})

describe('exactly once', () => {
  it('a replayed finish answers from stored state without continuing again', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'replay-1')
    const finishUrl = await world.approve(redirectUrl)
    const first = await (await fetch(finishUrl)).json()
    const continuations = world.sandbox.counts().continuations
    const second = await fetch(finishUrl)
    expect(second.status).toBe(200)
    expect((await second.json()).outgoingPayment.id).toBe(first.outgoingPayment.id)
    expect(world.sandbox.counts().continuations).toBe(continuations)
    expect(world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
  })

  it('20 concurrent finishes continue the grant once and create one outgoing payment', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'race-1')
    const finishUrl = await world.approve(redirectUrl)
    const continuationsBefore = world.sandbox.counts().continuations
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(finishUrl).then(async (r) => ({ status: r.status, body: await r.json() }))))
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200))
    const ids = new Set(answers.map((a) => a.body.outgoingPayment?.id))
    expect(ids.size).toBe(1)
    expect(world.sandbox.counts().continuations - continuationsBefore).toBe(1)
    expect(world.sandbox.outgoingPayments().filter((op) => op.metadata?.pendingId === pendingId)).toHaveLength(1)
    expect((await eventsOf(pendingId)).filter((t) => t === 'payment.processing')).toHaveLength(1)
  })
})

describe('timing', () => {
  it('waits out the wallet\'s continue `wait` instead of failing with too_fast', async () => {
    const { pendingId, redirectUrl } = await world.startOk({}, 'fast-buyer')
    const started = Date.now()
    const res = await fetch(await world.approve(redirectUrl))
    expect(res.status).toBe(200)
    expect((await res.json()).ok).toBe(true)
    const payment = await row(pendingId)
    expect(Date.now() - payment.grantRequestedAt!.getTime()).toBeGreaterThanOrEqual(1000)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
