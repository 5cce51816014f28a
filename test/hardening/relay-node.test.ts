// Issue 9 item 4: Relay `node`/`nodes` answer null for an id that names nothing (unknown row,
// unknown or non-node type, not base64 at all), never INTERNAL, and log no stack for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, writeEd25519Key, type TestService } from '../harness.js'

let service: TestService
let sellerNodeId: string
beforeAll(async () => {
  service = await startTestService()
  const key = writeEd25519Key(service.keysDir, 'seller.key')
  await service.request('/sellers', {
    method: 'POST',
    json: { id: 'known', walletAddressUrl: 'https://wallet.example/known', keyId: 'k1', privateKeyPath: key.file },
  })
  const { data } = await service.graphql('{ seller(id: "known") { id } }')
  sellerNodeId = data.seller.id
})
afterAll(() => service.close())

const b64 = (s: string) => Buffer.from(s).toString('base64')
const unknownIds: [string, string][] = [
  ['an unknown seller', b64('Seller:nope')],
  ['an unknown payment', b64('Payment:01ARZ3NDEKTSV4RRFFQ69G5FAV')],
  ['an unknown webhook event', b64('WebhookEvent:nope')],
  ['a type that does not exist', b64('Nope:1')],
  ['a type that is not a node', b64('Money:1')],
  ['no type separator', b64('nope')],
  ['not base64', '!!!not-base64!!!'],
  ['empty', ''],
  ['a huge id', b64(`Seller:${'x'.repeat(20_000)}`)],
]

describe('node(id)', () => {
  it.each(unknownIds)('%s is null without errors or a logged stack', async (_name, id) => {
    const logsBefore = service.logs.length
    const res = await service.graphql('query ($id: ID!) { node(id: $id) { id } }', { id })
    expect(res).toEqual({ data: { node: null } })
    const newLogs = service.logs.slice(logsBefore).join('\n')
    expect(newLogs).not.toMatch(/unexpected|"level":50|stack/i)
  })

  it('still finds a known node', async () => {
    const res = await service.graphql('query ($id: ID!) { node(id: $id) { id ... on Seller { sellerId } } }', { id: sellerNodeId })
    expect(res).toEqual({ data: { node: { id: sellerNodeId, sellerId: 'known' } } })
  })
})

describe('nodes(ids)', () => {
  it('answers null in the place of each unknown id, and the known ones beside them', async () => {
    const ids = [sellerNodeId, ...unknownIds.map(([, id]) => id), sellerNodeId]
    const logsBefore = service.logs.length
    const res = await service.graphql('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids })
    expect(res.errors).toBeUndefined()
    expect(res.data.nodes).toEqual([{ id: sellerNodeId }, ...unknownIds.map(() => null), { id: sellerNodeId }])
    expect(service.logs.slice(logsBefore).join('\n')).not.toMatch(/unexpected|"level":50/i)
  })
})
