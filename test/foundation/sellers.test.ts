import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir, startTestService, writeEd25519Key, type TestService } from '../harness.js'

let service: TestService
let keyPath: string
let keyPem: string

beforeAll(async () => {
  service = await startTestService()
  keyPath = writeEd25519Key(service.keysDir, 'seller.key').file
  keyPem = fs.readFileSync(keyPath, 'utf8')
})
afterAll(() => service.close())

const valid = () => ({
  id: 'default-seller',
  walletAddressUrl: 'https://ilp.interledger-test.dev/mvr5656',
  keyId: 'fe775339-6ebc-4eb8-a4b4-0811acba3b62',
  privateKeyPath: keyPath,
})

async function expectRefused(body: unknown, status: number, code: string, field?: string) {
  const before = await service.db.seller.findMany()
  const res = await service.request('/sellers', { method: 'POST', json: body })
  const json = await res.json()
  expect(res.status).toBe(status)
  expect(json.code).toBe(code)
  expect(typeof json.error).toBe('string')
  if (field) expect(JSON.stringify(json.details)).toContain(field)
  expect(JSON.stringify(json)).not.toContain('PRIVATE KEY')
  expect(await service.db.seller.findMany()).toEqual(before)
  return json
}

describe('REST sellers', () => {
  it('registers a seller (201 {ok, id}) and lists it in the contract shape', async () => {
    const res = await service.request('/sellers', { method: 'POST', json: valid() })
    expect(res.status).toBe(201)
    expect(await res.text()).toBe('{"ok":true,"id":"default-seller"}')

    const list = await service.request('/sellers')
    expect(await list.json()).toEqual({ sellers: [valid()] })
  })

  it('updates an existing seller in place', async () => {
    const res = await service.request('/sellers', { method: 'POST', json: { ...valid(), keyId: 'rotated-key' } })
    expect(res.status).toBe(201)
    const sellers = await service.db.seller.findMany()
    expect(sellers).toHaveLength(1)
    expect(sellers[0].keyId).toBe('rotated-key')
  })

  it('pages the list with limit and cursor', async () => {
    for (const id of ['s-a', 's-b', 's-c']) {
      await service.request('/sellers', { method: 'POST', json: { ...valid(), id } })
    }
    const first = await (await service.request('/sellers?limit=2')).json()
    expect(first.sellers.map((s: any) => s.id)).toEqual(['default-seller', 's-a'])
    expect(first.nextCursor).toBe('s-a')
    const second = await (await service.request(`/sellers?limit=2&cursor=${first.nextCursor}`)).json()
    expect(second.sellers.map((s: any) => s.id)).toEqual(['s-b', 's-c'])
    expect(second.nextCursor).toBeUndefined()
    expect((await service.request('/sellers?limit=0')).status).toBe(400)
    expect((await service.request('/sellers?limit=abc')).status).toBe(400)
  })

  it('refuses missing and wrongly typed fields, naming them', async () => {
    await expectRefused({}, 400, 'VALIDATION_FAILED', 'walletAddressUrl')
    await expectRefused({ ...valid(), keyId: 42 }, 400, 'VALIDATION_FAILED', 'keyId')
    await expectRefused({ ...valid(), id: 'has spaces' }, 400, 'VALIDATION_FAILED', 'id')
    await expectRefused([valid()], 400, 'BAD_REQUEST')
  })

  it('refuses a wallet address that is not https://', async () => {
    await expectRefused({ ...valid(), id: 'n1', walletAddressUrl: 'http://wallet.example/alice' }, 400, 'INVALID_WALLET_ADDRESS', 'walletAddressUrl')
    await expectRefused({ ...valid(), id: 'n1', walletAddressUrl: 'not a url' }, 400, 'INVALID_WALLET_ADDRESS')
    await expectRefused({ ...valid(), id: 'n1', walletAddressUrl: 'https://127.0.0.1/alice' }, 400, 'INVALID_WALLET_ADDRESS')
  })

  it('refuses key paths outside KEYS_DIR: ../, absolute, symlink escaping', async () => {
    const outside = makeTempDir()
    const outsideKey = writeEd25519Key(outside, 'elsewhere.key').file
    fs.symlinkSync(outsideKey, path.join(service.keysDir, 'escape.key'))
    for (const p of [
      path.join(service.keysDir, '..', 'etc-passwd'),
      '../../../../etc/passwd',
      '/etc/passwd',
      outsideKey,
      path.join(service.keysDir, 'escape.key'),
      service.keysDir,
    ]) {
      const json = await expectRefused({ ...valid(), id: 'n2', privateKeyPath: p }, 400, 'INVALID_KEY_PATH', 'privateKeyPath')
      expect(json.error).toContain('KEYS_DIR')
    }
    fs.rmSync(outside, { recursive: true })
  })

  it('refuses a missing file and keys that are not Ed25519', async () => {
    await expectRefused({ ...valid(), id: 'n3', privateKeyPath: path.join(service.keysDir, 'missing.key') }, 400, 'KEY_NOT_FOUND')
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' })
    fs.writeFileSync(path.join(service.keysDir, 'rsa.key'), rsa)
    const json = await expectRefused({ ...valid(), id: 'n3', privateKeyPath: path.join(service.keysDir, 'rsa.key') }, 400, 'INVALID_KEY')
    expect(json.error).toContain('Ed25519')
    fs.writeFileSync(path.join(service.keysDir, 'junk.key'), 'hello')
    await expectRefused({ ...valid(), id: 'n3', privateKeyPath: path.join(service.keysDir, 'junk.key') }, 400, 'INVALID_KEY')
  })

  it('never logs key material', () => {
    const body = keyPem.split('\n')[1]
    expect(service.logs.join('\n')).not.toContain(body)
  })
})

describe('GraphQL sellers', () => {
  const UPSERT = `mutation ($input: UpsertSellerInput!) {
    upsertSeller(input: $input) {
      __typename
      ... on UpsertSellerPayload { created seller { id sellerId walletAddressUrl keyId } }
      ... on Error { code message }
      ... on AppError { details }
    }
  }`

  it('upserts, reads one and lists a Relay connection', async () => {
    const created = await service.graphql(UPSERT, { input: { ...valid(), id: 'gql-seller' } })
    expect(created.data.upsertSeller).toMatchObject({ __typename: 'UpsertSellerPayload', created: true, seller: { sellerId: 'gql-seller' } })
    const again = await service.graphql(UPSERT, { input: { ...valid(), id: 'gql-seller' } })
    expect(again.data.upsertSeller.created).toBe(false)

    const one = await service.graphql(`{ seller(id: "gql-seller") { sellerId keyId } missing: seller(id: "nope") { sellerId } }`)
    expect(one.data).toEqual({ seller: { sellerId: 'gql-seller', keyId: valid().keyId }, missing: null })

    const page = await service.graphql(`{ sellers(first: 2) { edges { cursor node { sellerId } } pageInfo { hasNextPage endCursor } } }`)
    expect(page.data.sellers.edges).toHaveLength(2)
    expect(page.data.sellers.pageInfo.hasNextPage).toBe(true)
  })

  it('returns typed errors for bad input and changes nothing', async () => {
    const before = await service.db.seller.count()
    const bad = await service.graphql(UPSERT, { input: { ...valid(), id: 'gql-bad', privateKeyPath: '/etc/passwd' } })
    expect(bad.data.upsertSeller).toMatchObject({ __typename: 'AppError', code: 'INVALID_KEY_PATH', details: { field: 'privateKeyPath' } })
    const http = await service.graphql(UPSERT, { input: { ...valid(), id: 'gql-bad', walletAddressUrl: 'http://x.example/a' } })
    expect(http.data.upsertSeller.code).toBe('INVALID_WALLET_ADDRESS')
    expect(await service.db.seller.count()).toBe(before)
  })
})
