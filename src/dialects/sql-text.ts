/** SQL text helpers shared by every dialect (Postgres and SQLite quote the same way). */
import type { ForeignKeySchema, ReferentialAction } from "../schema/snapshot.js";

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

/**
 * Read the "quoted identifier" whose opening quote is at `start`: its name with `""` unescaped,
 * and `close`, the index of its closing quote (sql.length when it is never closed).
 */
export function readQuotedIdentifier(sql: string, start: number): { name: string; close: number } {
  let name = "";
  let j = start + 1;
  while (j < sql.length) {
    if (sql[j] === '"' && sql[j + 1] === '"') {
      name += '"';
      j += 2;
    } else if (sql[j] === '"') break;
    else name += sql[j++];
  }
  return { name, close: j };
}

function referentialClause(event: "DELETE" | "UPDATE", action: ReferentialAction): string {
  // NO ACTION is the default on both SQLite and Postgres; leaving it out keeps the DDL readable.
  return action === "no action" ? "" : ` ON ${event} ${action.toUpperCase()}`;
}

/** `CONSTRAINT … FOREIGN KEY (…) REFERENCES … (…) [ON …] [DEFERRABLE …]`: the same words on both families. */
export function foreignKeyClause(fk: ForeignKeySchema): string {
  return (
    `CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${identList(fk.columns)}) ` +
    `REFERENCES ${quoteIdent(fk.refTable)} (${identList(fk.refColumns)})` +
    referentialClause("DELETE", fk.onDelete) +
    referentialClause("UPDATE", fk.onUpdate) +
    (fk.deferrable === undefined ? "" : ` DEFERRABLE INITIALLY ${fk.deferrable.toUpperCase()}`)
  );
}
