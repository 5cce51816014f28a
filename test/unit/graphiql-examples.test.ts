import { parse, validate } from 'graphql'
import { describe, expect, it } from 'vitest'
import { exampleOperations, renderGraphiQLPage } from '../../src/graphql/graphiql.js'
import { schema } from '../../src/graphql/schema.js'

describe('GraphiQL example operations', () => {
  it('are valid against the schema, so each tab runs as it opens', () => {
    expect(exampleOperations.map((e) => e.title)).toEqual(['Start a checkout', 'Read a payment', "List an offer's payments", 'Webhook events', 'Watch a payment'])
    for (const example of exampleOperations) expect(validate(schema, parse(example.query)), example.title).toEqual([])
  })

  it('are embedded without letting their text close the script', () => {
    const html = renderGraphiQLPage({ examples: [{ title: 'x', query: '{ __typename } # </script><script>alert(1)</script>' }] })
    expect(html).not.toContain('</script><script>alert(1)')
  })
})
