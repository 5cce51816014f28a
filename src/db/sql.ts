// Small pieces of the portable SQL the service writes outside the ORM (src/db/claims.ts, the
// prepared reads and writes): quoted camelCase identifiers, as both providers' migrations name them.

/** `"a", "b", ...`: quoted column names for a SELECT or RETURNING list. */
export const columnList = (columns: readonly string[]) => columns.map((column) => `"${column}"`).join(', ')
