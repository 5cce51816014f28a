// Whether a field's GraphQL selection stays within a set of fields: lets a resolver read fewer
// columns when the query asks for little (the `payment` query and the payment pages,
// src/payments/schema.ts).
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql'

/** Fields a selection may ask for: a leaf (true), or an object field with the sub-fields it may ask for. */
export interface FieldSet {
  readonly [field: string]: true | FieldSet
}

type Fragments = Record<string, FragmentDefinitionNode>

/** The named fragments already judged against each allowed set (a fragment may be spread at several levels). */
type Judged = Map<FieldSet, Set<string>>

function within(selectionSet: SelectionSetNode, allowed: FieldSet, fragments: Fragments, judged: Judged): boolean {
  for (const selection of selectionSet.selections) {
    // A directive (@include, @skip, or any other) may depend on variables: not worth judging.
    if (selection.directives?.length) return false
    if (selection.kind === 'Field') {
      const sub = Object.hasOwn(allowed, selection.name.value) ? allowed[selection.name.value] : undefined
      if (sub === undefined) return false
      if (selection.selectionSet && (sub === true || !within(selection.selectionSet, sub, fragments, judged))) return false
    } else {
      // Fragments: the type conditions do not matter, what they may ask for is judged the same.
      const set = selection.kind === 'InlineFragment' ? selection.selectionSet : fragments[selection.name.value]?.selectionSet
      if (!set) return false
      if (selection.kind === 'FragmentSpread') {
        let here = judged.get(allowed)
        if (!here) judged.set(allowed, (here = new Set()))
        if (here.has(selection.name.value)) continue
        here.add(selection.name.value)
      }
      if (!within(set, allowed, fragments, judged)) return false
    }
  }
  return true
}

/**
 * Per field node of a parsed document (documents are cached, so their nodes are reused). A field
 * node belongs to one document, whose fragments the answer also depends on: a plugin that made new
 * documents sharing nodes of old ones (rewriting only their fragments) would have to clear this.
 */
const answers = new WeakMap<FieldNode, WeakMap<FieldSet, boolean>>()

/**
 * True when the field being resolved asks only for fields of `allowed` (at any depth, through
 * fragments); false when it asks for anything else or uses a directive. It depends only on the
 * document, so its answer is kept per field node.
 */
export function selectsOnly(info: GraphQLResolveInfo, allowed: FieldSet): boolean {
  if (info.fieldNodes.length !== 1) return false
  const [node] = info.fieldNodes
  let byAllowed = answers.get(node)
  if (!byAllowed) answers.set(node, (byAllowed = new WeakMap()))
  let answer = byAllowed.get(allowed)
  if (answer === undefined) {
    answer = node.selectionSet !== undefined && within(node.selectionSet, allowed, info.fragments, new Map())
    byAllowed.set(allowed, answer)
  }
  return answer
}
