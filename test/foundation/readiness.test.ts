// GET /ready, for load balancers: 200 once the database answers and every committed migration is
// applied; 503 in the documented error shape otherwise. No token needed, like /health, which says
// only that the process answers and asks nothing of the database.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startTestService, type TestService } from '../harness.js'

let service: TestService
beforeAll(async () => {
  service = await startTestService()
})
afterAll(() => service?.close())

it('is ready on a migrated database, and says 503 NOT_READY naming a migration that is not applied', async () => {
  const ready = await service.request('/ready', { token: null })
  expect(ready.status).toBe(200)
  expect(await ready.json()).toEqual({ status: 'ready' })

  const [latest] = await service.db.$queryRawUnsafe<{ migration_name: string }[]>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1')
  await service.db.$executeRaw`UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = ${latest.migration_name}`
  const notReady = await service.request('/ready', { token: null })
  expect(notReady.status).toBe(503)
  expect(await notReady.json()).toEqual({ error: 'Database migrations are pending', code: 'NOT_READY', details: { pending: [latest.migration_name] } })
})

it('answers /health while the database does not answer, when /ready says 503', async () => {
  const db = service.db as unknown as Record<string, unknown>
  const unreachable = () => Promise.reject(new Error('database unreachable (test)'))
  db.$queryRawUnsafe = db.$queryRaw = db.$executeRawUnsafe = db.$executeRaw = unreachable
  try {
    const health = await service.request('/health', { token: null })
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', service: 'payments' })
    const ready = await service.request('/ready', { token: null })
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ error: 'The database cannot be reached', code: 'NOT_READY' })
  } finally {
    for (const method of ['$queryRawUnsafe', '$queryRaw', '$executeRawUnsafe', '$executeRaw']) delete db[method]
  }
})
