// The root pino logger. Secrets are redacted by key wherever they appear in a logged object;
// code must still never log key material, tokens, nonces or webhook secrets on purpose.
import pino from 'pino'

export const redactedKeys = [
  'authorization',
  'Authorization',
  'privateKey',
  'accessToken',
  'access_token',
  'continueToken',
  'clientNonce',
  'nonce',
  'secret',
  'secrets',
  'finishSecret',
  'token',
  'interact_ref',
  'interactRef',
  'hash',
]

export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'payments' },
    redact: {
      paths: [
        ...redactedKeys,
        ...redactedKeys.map((k) => `*.${k}`),
        ...redactedKeys.map((k) => `*.*.${k}`),
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  }
  if (destination) return pino(options, destination)
  // Pretty output only for a person at a terminal; JSON lines everywhere else.
  if (process.stdout.isTTY) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } })
  return pino(options)
}
