// Relay's `node(id)` and `nodes(ids)`. An id that names nothing (not a global id, a type that is not
// a node, a row that does not exist) is null: a client's stale or mistyped id, not a server error.
// Pothos's built-in fields (switched off in builder.ts) raise errors for all three.
import { decodeGlobalID, resolveNodes } from '@pothos/plugin-relay'
import { isObjectType, type GraphQLSchema } from 'graphql'
import { AppError } from '../errors.js'
import { builder } from './builder.js'

/** One request may look up this many ids at most (each is a database read). */
const MAX_NODE_IDS = 100

/** The decoded id when it names an object type implementing Node; null otherwise. */
function parseNodeId(schema: GraphQLSchema, id: string | number) {
  let decoded: { typename: string; id: string }
  try {
    decoded = decodeGlobalID(String(id))
  } catch {
    return null
  }
  const type = schema.getType(decoded.typename)
  return isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node') ? decoded : null
}

builder.queryFields((t) => ({
  node: t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: 'The object with this global id, or null when no object has it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context, info) => (await resolveNodes(builder, context, info, [parseNodeId(info.schema, id)]))[0],
  }),
  nodes: t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    description: 'The objects with these global ids (at most 100), in order; null for each id no object has.',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: (_root, { ids }, context, info) => {
      if (ids.length > MAX_NODE_IDS) throw new AppError('VALIDATION_FAILED', `nodes takes at most ${MAX_NODE_IDS} ids`, { field: 'ids' })
      return resolveNodes(builder, context, info, ids.map((id) => parseNodeId(info.schema, id)))
    },
  }),
}))
