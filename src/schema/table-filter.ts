/**
 * Which tables Retort looks at: the config's `tables: { include, exclude }` (names or globs with
 * `*` and `?`), plus the version tables of other migration tools, which are never Retort's to
 * diff (an adopted database keeps them so the team can go back). Applied by the introspectors
 * before anything is read about a table, so a table Retort could not describe (PostGIS columns,
 * say) does not stop introspection once it is excluded.
 */
import type { Schema } from "./snapshot.js";

export interface TableSelection {
  /** Only these tables (names or globs). Absent: every table. */
  include?: readonly string[];
  /** Never these tables (names or globs). */
  exclude?: readonly string[];
}

/** Version tables of Alembic, Prisma and Drizzle: excluded unless `include` names one exactly. */
export const OTHER_TOOLS_TABLES: readonly string[] = Object.freeze(["alembic_version", "_prisma_migrations", "__drizzle_migrations"]);

export type TablePredicate = (table: string) => boolean;

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

function matcher(patterns: readonly string[]): TablePredicate {
  const exact = new Set(patterns.filter((p) => !/[*?]/.test(p)));
  const globs = patterns.filter((p) => /[*?]/.test(p)).map(globToRegExp);
  return (name) => exact.has(name) || globs.some((glob) => glob.test(name));
}

/** The predicate for a selection: true for a table Retort should see. */
export function tableFilter(selection: TableSelection = {}): TablePredicate {
  const included = selection.include ? matcher(selection.include) : () => true;
  const excluded = matcher(selection.exclude ?? []);
  const named = new Set(selection.include ?? []);
  const otherTools = new Set(OTHER_TOOLS_TABLES);
  return (name) => included(name) && !excluded(name) && (!otherTools.has(name) || named.has(name));
}

/** The schema without the tables the predicate leaves out (enums stay: they belong to no table). */
export function filterSchema(schema: Schema, keep: TablePredicate): Schema {
  const tables = schema.tables.filter((table) => keep(table.name));
  return tables.length === schema.tables.length ? schema : { ...schema, tables };
}
