// Input validation shared by REST and GraphQL: zod schemas, and one way to turn their issues into
// a VALIDATION_FAILED error that names every bad field.
import { z } from 'zod'
import { AppError } from './errors.js'

export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input, { error: describeIssue })
  if (result.success) return result.data
  const fields = Object.fromEntries(result.error.issues.map((issue) => [issue.path.join('.') || '(body)', issue.message]))
  const summary = Object.entries(fields)
    .map(([field, message]) => `${field} ${message}`)
    .join('; ')
  throw new AppError('VALIDATION_FAILED', `Invalid input: ${summary}.`, { fields })
}

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value)
const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`)

/**
 * Says what is wrong with one field, in words a client developer reads once and fixes:
 * "is required", "must be a string (got number)", "must be at most 100 characters".
 * Messages written on a schema (e.g. "must be a pendingId (ULID)") win over these.
 */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required'
      return `must be ${article(issue.expected === 'nonoptional' ? 'value' : issue.expected)} (got ${kindOf(issue.input)})`
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`
      if (issue.origin === 'array') return `must have at least ${issue.minimum} items`
      return `must be at least ${issue.minimum}`
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`
      return `must be at most ${issue.maximum}`
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a valid URL' : issue.format === 'regex' ? 'has the wrong format' : `must be a valid ${issue.format}`
    case 'unrecognized_keys':
      return `has unknown fields: ${issue.keys.join(', ')}`
    default:
      return undefined
  }
}

/**
 * An id in a URL path or a lookup argument (offerId, pendingId, sellerId, ...): every one has this
 * bound, so no route accepts, stores or repeats (in an error's details) an unbounded string.
 */
const IDENTIFIER_MAX_LENGTH = 100
export const Identifier = z.string().min(1).max(IDENTIFIER_MAX_LENGTH)

/** What a pendingId looks like (a ULID, as src/payments/start.ts mints them): anything else names no checkout. */
export const PENDING_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** Validates one identifier, naming it in the VALIDATION_FAILED error (its value is not repeated). */
export function requireIdentifier(name: string, value: unknown): string {
  // Part of what Identifier accepts (zod counts code points, this UTF-16 units), without zod's cost
  // on every status read; anything else goes to zod, which accepts it or words the refusal.
  if (typeof value === 'string' && value.length > 0 && value.length <= IDENTIFIER_MAX_LENGTH) return value
  let schema = identifierSchemas.get(name)
  // Built once per name: building a zod schema costs more than the rest of a status read.
  if (!schema) identifierSchemas.set(name, (schema = z.object({ [name]: Identifier })))
  return parseInput(schema, { [name]: value })[name] as string
}
const identifierSchemas = new Map<string, z.ZodObject<Record<string, typeof Identifier>>>()

/** Page size for list routes: a default, and a hard maximum. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(100).optional(),
})

/** GraphQL sends absent optional inputs as null; the zod schemas treat absent as undefined. */
export function withoutNulls<T extends Record<string, unknown>>(input: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null)) as never
}
