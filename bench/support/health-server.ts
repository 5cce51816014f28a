// The servers bench/health.ts measures, each in its own process so that it has a core to itself
// while autocannon drives it from another:
//   HEALTH_SERVER=service  the payments service (startService on a migrated SQLite file, API token
//                          set, workers running, no sandbox), logging at LOG_LEVEL (default info,
//                          as `npm start`) as JSON lines to /dev/null
//   HEALTH_SERVER=bare     the floor: node:http answering /health and every other path with the
//                          same JSON the service answers (on PORT when set: bench/startup.ts)
// Prints {"url": ...} once listening; stops on SIGTERM.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const kind = process.env.HEALTH_SERVER

function startBare(): Promise<http.Server> {
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
  }
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return send(res, 200, { status: 'ok', service: 'payments', time: new Date().toISOString() })
    send(res, 404, { error: 'Not found', code: 'NOT_FOUND' })
  })
  return new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => resolve(server)))
}

if (kind === 'bare') {
  const server = await startBare()
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`)
  process.once('SIGTERM', () => server.close(() => process.exit(0)))
} else if (kind === 'service') {
  // Loaded only here: the floor (bench/startup.ts times its start) must not load the service's modules.
  const [{ default: pino }, { parseConfig }, { createLogger }, { startService }] = await Promise.all([
    import('pino'),
    import('../../src/config.js'),
    import('../../src/logger.js'),
    import('../../src/service.js'),
  ])
  const cfg = parseConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', MIGRATE_ON_START: 'false', SANDBOX: 'off' })
  const service = await startService(cfg, { logger: createLogger(cfg.logLevel, pino.destination({ dest: '/dev/null', sync: true })) })
  process.stdout.write(`${JSON.stringify({ url: service.url })}\n`)
  process.once('SIGTERM', () => void service.close().then(() => process.exit(0)))
} else {
  throw new Error('HEALTH_SERVER must be service or bare')
}
