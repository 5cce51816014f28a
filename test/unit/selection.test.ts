// selectsOnly (src/graphql/selection.ts) judges a field's selection against the fields it may ask
// for, at every depth and through fragments, on a schema of its own.
import { buildSchema, execute, parse, type GraphQLResolveInfo } from 'graphql'
import { describe, expect, it } from 'vitest'
import { selectsOnly, type FieldSet } from '../../src/graphql/selection.js'

const schema = buildSchema(`
  interface I { id: ID secret: String }
  type B implements I { id: ID secret: String }
  type A implements I { id: ID secret: String b: B }
  type Query { a: A }
`)
const allowed: FieldSet = { __typename: true, id: true, secret: true, b: { id: true } }

function judge(query: string): boolean {
  let answer: boolean | undefined
  const a = (_args: unknown, _ctx: unknown, info: GraphQLResolveInfo) => {
    answer = selectsOnly(info, allowed)
    return { id: '1', b: { id: '2' } }
  }
  const result = execute({ schema, document: parse(query), rootValue: { a } })
  expect((result as { errors?: unknown }).errors).toBeUndefined()
  return answer!
}

describe('selectsOnly', () => {
  it('accepts what the allowed set names, through aliases and fragments', () => {
    expect(judge('{ a { id x: secret __typename b { id } } }')).toBe(true)
    expect(judge('{ a { ...F b { ... on B { id } } } } fragment F on A { secret }')).toBe(true)
    expect(judge('{ a { ...F ...F } } fragment F on I { id }')).toBe(true)
  })

  it('refuses any other field, at any depth, and every directive', () => {
    expect(judge('{ a { b { secret } } }')).toBe(false)
    expect(judge('{ a { b { ... on I { secret } } } }')).toBe(false)
    expect(judge('{ a { id @include(if: true) } }')).toBe(false)
    expect(judge('{ a { id b { id @skip(if: false) } } }')).toBe(false)
  })

  it('judges a fragment spread at two levels at each of them, in either order', () => {
    expect(judge('{ a { ...F b { ...F } } } fragment F on I { secret }')).toBe(false)
    expect(judge('{ a { b { ...F } ...F } } fragment F on I { secret }')).toBe(false)
    expect(judge('{ a { ...F b { ...F } } } fragment F on I { id }')).toBe(true)
  })
})
