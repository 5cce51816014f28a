import { z } from 'zod'
import pino from 'pino'
import { startDemoWallets } from './demo-wallets.js'

// `npm run sandbox`: a standalone wallet for demos. Everything but the seller's key file is in
// memory and gone when the process stops.
const env = z
  .object({
    SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4100),
    SANDBOX_KEYS_DIR: z.string().min(1).default('./data/sandbox'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .parse(process.env)

const logger = pino({ level: env.LOG_LEVEL })
const { sandbox, seller } = await startDemoWallets({ port: env.SANDBOX_PORT, keysDir: env.SANDBOX_KEYS_DIR, logger })

logger.info(
  {
    seller: sandbox.walletAddressUrl('seller'),
    buyer: sandbox.walletAddressUrl('buyer'),
    eurBuyer: sandbox.walletAddressUrl('buyer-eur'),
    rates: sandbox.rates(),
    keyId: seller.keyId,
    privateKeyPath: seller.privateKeyPath,
    admin: `${sandbox.origin}/sandbox/`,
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
