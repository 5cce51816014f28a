import { z } from 'zod'
import pino from 'pino'
import { startDemoWallets } from './demo-wallets.js'

// `npm run sandbox`: a standalone wallet for demos. Everything but the seller's key file is in
// memory and gone when the process stops. The key goes into KEYS_DIR, where the service reads
// keys from, so the printed privateKeyPath can be registered as is.
const env = z
  .object({
    SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4100),
    KEYS_DIR: z.string().min(1).default('./privates'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .parse(process.env)

const logger = pino({ level: env.LOG_LEVEL })
const { sandbox, seller } = await startDemoWallets({ port: env.SANDBOX_PORT, keysDir: env.KEYS_DIR, logger }).catch((error) => {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
  process.stderr.write(`Port ${env.SANDBOX_PORT} is in use (another sandbox or npm start?): stop it, or set SANDBOX_PORT to a free port.\n`)
  process.exit(1)
})

logger.info(
  {
    seller: sandbox.walletAddressUrl('seller'),
    buyer: sandbox.walletAddressUrl('buyer'),
    eurBuyer: sandbox.walletAddressUrl('buyer-eur'),
    rates: sandbox.rates(),
    keyId: seller.keyId,
    privateKeyPath: seller.privateKeyPath,
    admin: `${sandbox.origin}/sandbox`,
  },
  'sandbox wallet ready (state is in memory and resets on restart)',
)

const shutdown = () => {
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
