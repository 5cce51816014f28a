// The sandbox wallet in its own process, for bench/checkout.ts: a seller and a well-funded buyer.
// Prints {"origin": ...} once listening; the benchmark adds the seller's client key over the
// sandbox admin API. Stops on SIGTERM.
//
// continueWaitSeconds = 0: the sandbox's default `wait` (5 s, as Rafiki) would make every
// finish sleep until the wait is over, for the service and the SDK floor alike, so both would
// measure the sleep rather than the work. fundingDelayMs = 10: settlement follows quickly.
import { startSandbox } from '../../src/sandbox/server.js'

const BENCH_SANDBOX_OPTIONS = { continueWaitSeconds: 0, fundingDelayMs: 10 } as const

const sandbox = await startSandbox({ port: 0, ...BENCH_SANDBOX_OPTIONS })
sandbox.addWallet({ name: 'seller', publicName: 'Bench Seller' })
sandbox.addWallet({ name: 'buyer', publicName: 'Bench Buyer', balance: 10n ** 15n })
process.stdout.write(`${JSON.stringify({ origin: sandbox.origin, options: BENCH_SANDBOX_OPTIONS })}\n`)

const stop = () => void sandbox.close().then(() => process.exit(0), () => process.exit(1))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
