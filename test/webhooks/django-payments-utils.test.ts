// examples/django/payments_utils.py against a real service and the sandbox wallet: the marketplace
// starts a checkout, the buyer approves, and the marketplace reads the payment as paid.
// payments_utils uses the Python standard library only, so any python3 runs it.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { API_TOKEN } from '../harness.js'
import { startCheckoutWorld, SELLER_ID, type CheckoutWorld } from '../checkout/world.js'

const exampleDir = path.resolve(import.meta.dirname, '../../examples/django')
let world: CheckoutWorld
beforeAll(async () => {
  world = await startCheckoutWorld()
})
afterAll(() => world.close())

// Asynchronous: the service answers from this very process.
async function python(code: string, token = API_TOKEN): Promise<any> {
  const { stdout } = await promisify(execFile)('python3', ['-c', `import json, payments_utils as p\n${code}`], {
    cwd: exampleDir,
    env: { ...process.env, PAYMENTS_SERVICE_URL: world.service.url, PAYMENTS_API_TOKEN: token, PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
  })
  return JSON.parse(stdout)
}

it('starts a payment and reads it as paid once the buyer approved', async () => {
  const started = await python(
    `print(json.dumps(p.start_payment(offer_id=555, seller_id=${JSON.stringify(SELLER_ID)}, buyer_wallet_address_url=${JSON.stringify(world.buyer)}, amount="1200", idempotency_key="job-555")))`,
  )
  expect(started.payment).toMatchObject({ offerId: '555', status: 'pending', state: 'AWAITING_APPROVAL' })
  expect(started.quote).toMatchObject({
    debitAmount: { value: '1200', assetCode: 'USD', assetScale: 2 },
    receiveAmount: { value: '1200', assetCode: 'USD', assetScale: 2 },
  })
  const again = await python(
    `print(json.dumps(p.start_payment(offer_id=555, seller_id=${JSON.stringify(SELLER_ID)}, buyer_wallet_address_url=${JSON.stringify(world.buyer)}, amount="1200", idempotency_key="job-555")))`,
  )
  expect(again.payment.pendingId).toBe(started.payment.pendingId)

  expect((await fetch(await world.approve(started.redirectUrl))).status).toBe(200)
  await expect
    .poll(async () => (await python(`print(json.dumps(p.payment_status(${JSON.stringify(started.payment.pendingId)})))`)).status, { timeout: 10_000 })
    .toBe('paid')
})

it('raises PaymentsServiceError with the service code on bad input and on a wrong token', async () => {
  const bad = await python(
    `try:\n    p.start_payment(offer_id=1, seller_id=${JSON.stringify(SELLER_ID)}, buyer_wallet_address_url=${JSON.stringify(world.buyer)}, amount="19.99")\nexcept p.PaymentsServiceError as e:\n    print(json.dumps({"code": e.code, "message": str(e)}))`,
  )
  expect(bad.code).toBe('INVALID_AMOUNT')
  const unauthenticated = await python(
    `try:\n    p.payment_status("01ARZ3NDEKTSV4RRFFQ69G5FAV")\nexcept p.PaymentsServiceError as e:\n    print(json.dumps({"code": e.code, "message": str(e)}))`,
    'wrong-token-0123456789',
  )
  expect(unauthenticated.code).toBe('UNAUTHENTICATED')
})
