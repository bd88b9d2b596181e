/**
 * Which tables Retort looks at: the config's `tables: { include, exclude }` (names or globs with
 * `*` and `?`), plus the version tables of other migration tools, which are never Retort's to
 * diff (an adopted database keeps them so the team can go back). Applied by the introspectors
 * before anything is read about a table, so a table Retort could not describe (PostGIS columns,
 * say) does not stop introspection once it is excluded.
 */
import { RetortError } from "../errors.js";
import type { ForeignKeySchema, Schema } from "./snapshot.js";

export interface TableSelection {
  /** Only these tables (names or globs). Absent: every table. */
  include?: readonly string[];
  /** Never these tables (names or globs). */
  exclude?: readonly string[];
}

/**
 * Other migration tools' bookkeeping tables: excluded unless `include` names one exactly. Alembic,
 * Prisma, Drizzle; Rails (whose `schema_migrations` golang-migrate and dbmate use too), Django,
 * Flyway, Liquibase, Knex, Sequelize, goose and sqlx.
 */
export const OTHER_TOOLS_TABLES: readonly string[] = Object.freeze([
  "alembic_version",
  "_prisma_migrations",
  "__drizzle_migrations",
  "schema_migrations",
  "ar_internal_metadata",
  "django_migrations",
  "flyway_schema_history",
  "databasechangelog",
  "databasechangeloglock",
  "knex_migrations",
  "knex_migrations_lock",
  "SequelizeMeta",
  "goose_db_version",
  "_sqlx_migrations",
]);

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

/** A foreign key of a read table to a table that was not read; `excluded`: left out by the selection. */
export interface OutsideReference {
  table: string;
  key: ForeignKeySchema;
  excluded: boolean;
}

/** The foreign keys of `schema`'s tables to tables it lacks, but for those `known` has the same. */
export function referencesOutside(schema: Schema, keep: TablePredicate, known?: Schema): OutsideReference[] {
  const read = new Set(schema.tables.map((table) => table.name));
  const sameKey = (table: string, key: ForeignKeySchema) =>
    known?.tables.find((t) => t.name === table)?.foreignKeys.some((k) => JSON.stringify(k) === JSON.stringify(key)) === true;
  return schema.tables.flatMap((table) =>
    table.foreignKeys.filter((key) => !read.has(key.refTable) && !sameKey(table.name, key)).map((key) => ({ table: table.name, key, excluded: !keep(key.refTable) })),
  );
}

/**
 * Refuse foreign keys of the read tables to a table that was not read (left out by the
 * selection, missing, or in another schema), unless `known` has the same key: Retort would have
 * to write (pull, baseline, autogenerate) or report (drift) a key to a table it knows nothing of.
 * Leaving the key out instead would make the models and the baseline lose it, and drift call
 * equal what is not. `models`: the schema is the models' (their export names by table, and the
 * file), so the message names the model and the hint offers taking the reference out of it.
 */
export function refuseReferencesOutside(schema: Schema, keep: TablePredicate, known?: Schema, models?: { names: ReadonlyMap<string, string>; file: string }): void {
  const outside = referencesOutside(schema, keep, known);
  if (outside.length === 0) return;
  const columns = (key: ForeignKeySchema) => `${key.columns.length === 1 ? "column" : "columns"} ${key.columns.map((c) => `"${c}"`).join(", ")}`;
  const where = (excluded: boolean) => (excluded ? "which the config's `tables` selection leaves out" : "which is not a table Retort read (missing, or in another schema)");
  const describe = ({ table, key, excluded }: OutsideReference) =>
    models
      ? `model ${models.names.get(table) ?? table} (table "${table}", ${models.file}): ${columns(key)} ${key.columns.length === 1 ? "references" : "reference"} table "${key.refTable}" (foreign key "${key.name}"), ${where(excluded)}`
      : `table "${table}" has foreign key "${key.name}" (${key.columns.join(", ")}) to "${key.refTable}", ${where(excluded)}`;
  const targets = [...new Set(outside.map((o) => o.key.refTable))];
  const sources = [...new Set(outside.map((o) => o.table))];
  throw new RetortError("RETORT_EXCLUDED_REFERENCE", `${outside.map(describe).join("; ")}. Retort cannot ${models ? "write or check" : "describe"} a foreign key to a table it does not read.`, {
    hint:
      `Add ${targets.map((t) => `"${t}"`).join(", ")} to the selection (take it out of tables.exclude, or add it to tables.include), or leave ${sources.map((t) => `"${t}"`).join(", ")} out as well` +
      (models ? ", or take the reference out of the model." : "."),
    details: { references: outside.map(({ table, key, excluded }) => ({ table, ...(models?.names.has(table) ? { model: models.names.get(table) } : {}), foreignKey: key.name, columns: key.columns, refTable: key.refTable, excluded })) },
  });
}
