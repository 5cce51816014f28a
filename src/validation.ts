// Input validation shared by REST and GraphQL: zod schemas, and one way to turn their issues into
// a VALIDATION_FAILED error that names every bad field.
import { z } from 'zod'
import { AppError } from './errors.js'

export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const fields = Object.fromEntries(result.error.issues.map((issue) => [issue.path.join('.') || '(body)', issue.message]))
  const summary = Object.entries(fields)
    .map(([field, message]) => `${field}: ${message}`)
    .join('; ')
  throw new AppError('VALIDATION_FAILED', `Invalid input: ${summary}`, { fields })
}

/**
 * An id in a URL path or a lookup argument (offerId, pendingId, sellerId, ...): every one has this
 * bound, so no route accepts, stores or repeats (in an error's details) an unbounded string.
 */
export const Identifier = z.string().min(1).max(100)

/** Validates one identifier, naming it in the VALIDATION_FAILED error (its value is not repeated). */
export function requireIdentifier(name: string, value: unknown): string {
  return parseInput(z.object({ [name]: Identifier }), { [name]: value })[name] as string
}

/** Page size for list routes: a default, and a hard maximum. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(100).optional(),
})

/** GraphQL sends absent optional inputs as null; the zod schemas treat absent as undefined. */
export function withoutNulls<T extends Record<string, unknown>>(input: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null)) as never
}
