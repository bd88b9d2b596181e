/**
 * Test support for the operations: a tiny step executor honouring the Step flags (the real one is
 * the runtime's), a cheap view of a live schema (tables, columns with type and nullability, index
 * and constraint names, enum labels) and the same view computed from a snapshot, so a test can
 * check that a database and the fold agree.
 */
import { createPgliteDriver } from "../../src/dialects/pglite/driver.js";
import { createPostgresDriver } from "../../src/dialects/postgres/driver.js";
import type { Driver } from "../../src/dialects/driver.js";
import { createSqliteDriver } from "../../src/dialects/sqlite/driver.js";
import { columnCheck, sqliteDeclaredType } from "../../src/dialects/sqlite/types.js";
import { quoteIdent } from "../../src/dialects/sql-text.js";
import { compileOperation } from "../../src/operations/compile.js";
import { applyOperation } from "../../src/operations/apply.js";
import type { Op, Step } from "../../src/operations/types.js";
import { postgresDdl } from "../../src/dialects/postgres/ddl.js";
import { sqliteDdl } from "../../src/dialects/sqlite/ddl.js";
import { loadIntrospector } from "../../src/runtime/head-schema.js";
import { EMPTY_SCHEMA, familyOf, type ColumnType, type Dialect, type Schema } from "../../src/schema/snapshot.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";

export const postgresUp = await postgresReachable();

export interface Backend {
  dialect: Dialect;
  driver: Driver;
  /** Drop everything, back to an empty database. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function openBackend(dialect: Dialect): Promise<Backend> {
  const options = { schema: EMPTY_SCHEMA };
  if (dialect === "sqlite") {
    let driver = createSqliteDriver(":memory:", options);
    return {
      dialect,
      get driver() {
        return driver;
      },
      async reset() {
        await driver.close();
        driver = createSqliteDriver(":memory:", options);
      },
      close: () => driver.close(),
    };
  }
  const temp = dialect === "postgres" ? await createTempDatabase("retort_ops") : undefined;
  const driver = temp ? createPostgresDriver(temp.url, options) : await createPgliteDriver({}, options);
  return {
    dialect,
    driver,
    async reset() {
      await driver.query("DROP SCHEMA public CASCADE");
      await driver.query("CREATE SCHEMA public");
    },
    async close() {
      await driver.close();
      await temp?.drop();
    },
  };
}

/**
 * Run steps in one transaction, as the runtime will: foreign keys off around the transaction when
 * a step asks for it (SQLite), steps outside the transaction on their own, triggers saved and
 * restored around rebuilds, foreign key checks before commit.
 */
export async function runSteps(driver: Driver, steps: readonly Step[]): Promise<void> {
  const foreignKeysOff = driver.dialect === "sqlite" && steps.some((step) => step.foreignKeysOff);
  if (foreignKeysOff) await driver.query("PRAGMA foreign_keys = OFF");
  const conn = await driver.acquire();
  let open = false;
  const triggers = new Map<string, string[]>();
  try {
    await conn.query("BEGIN");
    open = true;
    for (const step of steps) {
      if (step.outsideTransaction) {
        await conn.query("COMMIT");
        open = false;
        await conn.query(step.sql, step.params);
        await conn.query("BEGIN");
        open = true;
        continue;
      }
      if (step.saveTriggers !== undefined) {
        const { rows } = await conn.query<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [step.saveTriggers]);
        triggers.set(step.saveTriggers, rows.map((row) => row.sql));
      }
      await conn.query(step.sql, step.params);
      if (step.restoreTriggers !== undefined) for (const sql of triggers.get(step.restoreTriggers) ?? []) await conn.query(sql);
      if (step.checkForeignKeys !== undefined) {
        const { rows } = await conn.query(`PRAGMA foreign_key_check(${quoteIdent(step.checkForeignKeys)})`);
        if (rows.length > 0) throw new Error(`foreign_key_check("${step.checkForeignKeys}") found ${rows.length} violation(s)`);
      }
    }
    await conn.query("COMMIT");
    open = false;
  } catch (error) {
    if (open) await conn.query("ROLLBACK");
    throw error;
  } finally {
    conn.release();
    if (foreignKeysOff) await driver.query("PRAGMA foreign_keys = ON");
  }
}

/** Compile `op` against `schema`, run it, and return the folded schema after it. */
export async function perform(backend: Backend, schema: Schema, op: Op): Promise<Schema> {
  await runSteps(backend.driver, compileOperation(op, backend.dialect, schema));
  return applyOperation(schema, op);
}

export interface ObservedTable {
  columns: Record<string, { type: string; nullable: boolean }>;
  indexes: string[];
  constraints: string[];
}

export interface Observed {
  tables: Record<string, ObservedTable>;
  enums: Record<string, string[]>;
  /** Extensions of the public schema (none on SQLite). */
  extensions: string[];
}

/** The part of a live schema the tests compare. */
export async function observe(backend: Backend): Promise<Observed> {
  return backend.dialect === "sqlite" ? observeSqlite(backend.driver) : observePostgres(backend.driver);
}

async function observePostgres(driver: Driver): Promise<Observed> {
  const tables: Record<string, ObservedTable> = {};
  const { rows: columns } = await driver.query<{ table: string; column: string; nullable: boolean; type: string }>(
    `SELECT c.relname AS table, a.attname AS column, NOT a.attnotnull AS nullable, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
  );
  for (const row of columns) {
    tables[row.table] ??= { columns: {}, indexes: [], constraints: [] };
    tables[row.table]!.columns[row.column] = { type: row.type, nullable: row.nullable };
  }
  const { rows: constraints } = await driver.query<{ table: string; name: string }>(
    `SELECT c.relname AS table, con.conname AS name FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY 2`,
  );
  for (const row of constraints) tables[row.table]!.constraints.push(row.name);
  const { rows: indexes } = await driver.query<{ table: string; name: string }>(
    `SELECT tablename AS table, indexname AS name FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2`,
  );
  for (const row of indexes) if (!tables[row.table]!.constraints.includes(row.name)) tables[row.table]!.indexes.push(row.name);
  const { rows: labels } = await driver.query<{ name: string; label: string }>(
    `SELECT t.typname AS name, e.enumlabel AS label FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.typname, e.enumsortorder`,
  );
  const enums: Record<string, string[]> = {};
  for (const row of labels) (enums[row.name] ??= []).push(row.label);
  const { rows: extensions } = await driver.query<{ name: string }>(
    `SELECT x.extname AS name FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace WHERE n.nspname = 'public' ORDER BY 1`,
  );
  return { tables, enums, extensions: extensions.map((row) => row.name) };
}

async function observeSqlite(driver: Driver): Promise<Observed> {
  const tables: Record<string, ObservedTable> = {};
  const { rows: masters } = await driver.query<{ type: string; name: string; tbl_name: string; sql: string | null }>(
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  for (const master of masters.filter((row) => row.type === "table")) {
    const table: ObservedTable = { columns: {}, indexes: [], constraints: [] };
    const { rows } = await driver.query<{ name: string; type: string; notnull: bigint | number; pk: bigint | number }>(`PRAGMA table_info(${quoteIdent(master.name)})`);
    for (const row of rows) table.columns[row.name] = { type: row.type, nullable: Number(row.notnull) === 0 && Number(row.pk) === 0 };
    for (const match of (master.sql ?? "").matchAll(/CONSTRAINT "((?:[^"]|"")+)"/g)) table.constraints.push(match[1]!.replaceAll('""', '"'));
    table.constraints.sort();
    tables[master.name] = table;
  }
  for (const index of masters.filter((row) => row.type === "index" && row.sql !== null)) tables[index.tbl_name]!.indexes.push(index.name);
  return { tables, enums: {}, extensions: [] };
}

const POSTGRES_TYPE_NAMES: Partial<Record<ColumnType["kind"], string>> = {
  timestamptz: "timestamp with time zone",
  timestamp: "timestamp without time zone",
  time: "time without time zone",
  double: "double precision",
};

function postgresTypeName(type: ColumnType): string {
  switch (type.kind) {
    case "varchar":
      return `character varying(${type.length})`;
    case "numeric":
      return type.precision === undefined ? "numeric" : `numeric(${type.precision},${type.scale ?? 0})`;
    case "enum":
      return type.name;
    case "array":
      return `${postgresTypeName(type.element)}[]`;
    default:
      return POSTGRES_TYPE_NAMES[type.kind] ?? type.kind;
  }
}

/** What `observe` should see for a database holding exactly `schema`. */
export function expected(schema: Schema, dialect: Dialect): Observed {
  const sqlite = dialect === "sqlite";
  const tables: Record<string, ObservedTable> = {};
  for (const table of schema.tables) {
    const columns: ObservedTable["columns"] = {};
    const pk = table.primaryKey?.columns ?? [];
    for (const column of table.columns) {
      const type = sqlite ? (column.identity ? "INTEGER" : sqliteDeclaredType(column.type)) : postgresTypeName(column.type);
      columns[column.name] = { type, nullable: sqlite ? column.nullable && !pk.includes(column.name) : column.nullable };
    }
    const constraints = [
      ...(table.primaryKey ? [table.primaryKey.name] : []),
      ...table.uniques.map((u) => u.name),
      ...table.foreignKeys.map((f) => f.name),
      ...table.checks.map((c) => c.name),
      ...(sqlite ? table.columns.map((column) => columnCheck(table, column, schema)?.name).filter((name): name is string => name !== undefined) : []),
    ].sort();
    tables[table.name] = { columns, indexes: table.indexes.map((index) => index.name).sort(), constraints };
  }
  const enums = sqlite ? {} : Object.fromEntries(schema.enums.map((e) => [e.name, e.values]));
  return { tables, enums, extensions: sqlite ? [] : [...(schema.extensions ?? [])] };
}

/** Sorted view (Postgres reports columns in attnum order, SQLite too; indexes sorted by name). */
export function normalize(observed: Observed): Observed {
  const tables = Object.fromEntries(
    Object.entries(observed.tables)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, table]) => [name, { columns: table.columns, indexes: [...table.indexes].sort(), constraints: [...table.constraints].sort() }]),
  );
  const enums = Object.fromEntries(Object.entries(observed.enums).sort(([a], [b]) => a.localeCompare(b)));
  return { tables, enums, extensions: [...observed.extensions].sort() };
}

/** The backend's schema as its introspector reads it. */
export async function introspectBackend(backend: Backend): Promise<Schema> {
  const introspector = await loadIntrospector(familyOf(backend.dialect));
  const conn = await backend.driver.acquire();
  try {
    return await introspector(conn);
  } finally {
    conn.release();
  }
}

/** Create `schema` on the backend with the dialect's DDL. */
export async function createOnBackend(backend: Backend, schema: Schema): Promise<void> {
  const ddl = familyOf(backend.dialect) === "postgres" ? postgresDdl : sqliteDdl;
  await runSteps(backend.driver, ddl.createSchema(schema).map((sql) => ({ sql, description: "create" })));
}
