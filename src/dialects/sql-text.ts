/** SQL text helpers shared by every dialect (Postgres and SQLite quote the same way). */

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `"a", "b"` */
export function identList(names: readonly string[]): string {
  return names.map(quoteIdent).join(", ");
}
