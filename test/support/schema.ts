/** Schema snapshots in a canonical order, for deep equality in tests. */
import type { Schema } from "../../src/schema/snapshot.js";

const byName = <T extends { name: string }>(items: T[]) => [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** A copy with tables, enums and each table's constraints and indexes in name order (columns keep theirs). */
export function sorted(schema: Schema): Schema {
  return {
    tables: byName(schema.tables).map((table) => ({
      ...table,
      uniques: byName(table.uniques),
      indexes: byName(table.indexes),
      foreignKeys: byName(table.foreignKeys),
      checks: byName(table.checks),
    })),
    enums: byName(schema.enums),
  };
}
