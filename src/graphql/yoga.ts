// The GraphQL server. Expected failures are typed results (AppError) or, for fields without a
// result union, GraphQL errors carrying `extensions.code`. Anything unexpected is logged and masked.
import { GraphQLError } from 'graphql'
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor'
import { createYoga } from 'graphql-yoga'
import type { Logger } from 'pino'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { withFastPath } from './fast-path.js'
import { schema } from './schema.js'

/** What a client may see of an error: AppErrors and GraphQL errors as they are, anything else masked and logged to `logger`. */
export const maskErrorFor = (logger: Logger) => (error: unknown): GraphQLError => {
  const original = error instanceof GraphQLError ? error.originalError : error
  if (error instanceof GraphQLError && !original) return error
  if (original instanceof AppError) {
    return new GraphQLError(original.message, {
      extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) },
    })
  }
  if (original instanceof GraphQLError) return original
  logger.error({ err: original }, 'unexpected GraphQL error')
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL' } })
}

/**
 * yoga, and the fast path in front of it for plain JSON queries and mutations
 * (src/graphql/fast-path.ts), for one service: every resolver finds it in `ctx.deps`.
 */
export function createGraphQLServer(deps: Deps) {
  const maskError = maskErrorFor(deps.logger)
  const yoga = createYogaServer(deps, maskError)
  return { fetch: withFastPath(yoga, maskError, { deps }), yoga }
}

export function createYogaServer(deps: Deps, maskError = maskErrorFor(deps.logger)) {
  return createYoga({
    schema,
    // Merged into each request's own context object (plugin-prisma keys its loaders on that object).
    context: { deps },
    graphqlEndpoint: '/graphql',
    // app.ts serves the GraphiQL page itself (src/graphql/graphiql.ts): yoga only ever executes.
    graphiql: false,
    landingPage: false,
    // Yoga's own CORS reflects every origin with credentials; src/http/cors.ts decides instead.
    cors: false,
    logging: false,
    // Bounds on what one operation may ask for (depth, aliases, cost, size), so that a single
    // request cannot make the service walk the database; introspection stays allowed for GraphiQL.
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 10 },
        maxAliases: { n: 15 },
        costLimit: { maxCost: 5000 },
        maxTokens: { n: 2000 },
        blockFieldSuggestion: { enabled: deps.config.production },
      }),
    ],
    maskedErrors: { maskError },
  })
}
