import { builder } from '../graphql/builder.js'
import type { Seller } from '../db.js'
import { upsertSeller } from './service.js'

export const SellerRef = builder.prismaNode('Seller', {
  id: { field: 'id' },
  nullable: true, // node(id) of an unknown row is null (src/graphql/node.ts)
  fields: (t) => ({
    sellerId: t.exposeString('id', { description: 'The seller id used by the REST API and in checkouts.' }),
    walletAddressUrl: t.exposeString('walletAddressUrl'),
    keyId: t.exposeString('keyId'),
    privateKeyPath: t.exposeString('privateKeyPath'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

builder.queryFields((t) => ({
  seller: t.prismaField({
    type: 'Seller',
    nullable: true,
    args: { id: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) => ctx.deps.db.prisma.seller.findUnique({ ...query, where: { id: args.id } }),
  }),
  sellers: t.prismaConnection({
    type: 'Seller',
    cursor: 'id',
    defaultSize: 100,
    maxSize: 500,
    resolve: (query, _root, _args, ctx) => ctx.deps.db.prisma.seller.findMany({ ...query, orderBy: { id: 'asc' } }),
  }),
}))

const UpsertSellerInput = builder.inputType('UpsertSellerInput', {
  fields: (t) => ({
    id: t.string({ required: true }),
    walletAddressUrl: t.string({ required: true }),
    keyId: t.string({ required: true }),
    privateKeyPath: t.string({ required: true, description: 'Path of an Ed25519 PEM key file inside KEYS_DIR.' }),
  }),
})

const UpsertSellerPayload = builder.objectRef<{ seller: Seller; created: boolean }>('UpsertSellerPayload').implement({
  fields: (t) => ({
    seller: t.field({ type: SellerRef, resolve: (payload) => payload.seller }),
    created: t.exposeBoolean('created', { description: 'False when an existing seller was updated.' }),
  }),
})

builder.mutationField('upsertSeller', (t) =>
  t.field({
    type: UpsertSellerPayload,
    args: { input: t.arg({ type: UpsertSellerInput, required: true }) },
    errors: {},
    resolve: (_root, args, ctx) => upsertSeller(ctx.deps, args.input),
  }),
)
