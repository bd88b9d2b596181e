/**
 * `npx tsx bench/introspect.ts`: introspection of a generated 300-table schema on the local
 * Postgres server (target from the issue: well under 1 s). The schema: 300 tables × 8 columns
 * (2,400: identity, bigint, varchar, enum, numeric, jsonb, timestamptz, boolean, most with
 * defaults), 480 indexes (180 of them partial), 300 foreign keys (each table to the previous
 * one, the first to the last), 300 checks, 5 enums. It prints the median of 5 runs (plus the
 * first, cold run) and, for reference, raw `pg` running the same single catalog statement.
 *
 * Server: TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres; a fresh database is
 * created and dropped. BENCH_TABLES changes the table count.
 */
import { pathToFileURL } from "node:url";
import { createPostgresDriver } from "../src/dialects/postgres/driver.js";
import { postgresDdl } from "../src/dialects/postgres/ddl.js";
import { INTROSPECT_SQL, introspectPostgres } from "../src/dialects/postgres/introspect.js";
import type { Schema, TableSchema } from "../src/schema/snapshot.js";
import type { Connection } from "../src/dialects/driver.js";

/** The generated schema (deterministic). */
export function generateSchema(tableCount = 300): Schema {
  const enums = Array.from({ length: 5 }, (_, e) => ({ name: `state_${e}`, values: ["draft", "active", "archived", `extra_${e}`] }));
  const tables: TableSchema[] = [];
  const name = (i: number) => `t${String(i).padStart(3, "0")}`;
  for (let i = 0; i < tableCount; i++) {
    const table = name(i);
    const previous = name((i + tableCount - 1) % tableCount);
    const state = enums[i % enums.length]!.name;
    const t: TableSchema = {
      name: table,
      columns: [
        { name: "id", type: { kind: "bigint" }, nullable: false, identity: "by-default" },
        { name: "prev_id", type: { kind: "bigint" }, nullable: true },
        { name: "name", type: { kind: "varchar", length: 100 }, nullable: false },
        { name: "state", type: { kind: "enum", name: state }, nullable: false, default: { kind: "literal", value: "draft" } },
        { name: "amount", type: { kind: "numeric", precision: 12, scale: 2 }, nullable: false, default: { kind: "literal", value: "0.00" } },
        { name: "data", type: { kind: "jsonb" }, nullable: false, default: { kind: "literal", value: {} } },
        { name: "created_at", type: { kind: "timestamptz" }, nullable: false, default: { kind: "now" } },
        { name: "hidden", type: { kind: "boolean" }, nullable: false, default: { kind: "literal", value: false } },
      ],
      primaryKey: { name: `pk_${table}`, columns: ["id"] },
      uniques: [],
      indexes: [{ name: `ix_${table}_prev_id`, elements: [{ column: "prev_id" }], unique: false }],
      foreignKeys: [
        { name: `fk_${table}_prev_id_${previous}`, columns: ["prev_id"], refTable: previous, refColumns: ["id"], onDelete: "set null", onUpdate: "no action" },
      ],
      checks: [{ name: `ck_${table}_amount`, expression: "amount >= 0" }],
    };
    // 3 tables in 5 get a second, partial index: 300 + 180 = 480.
    if (i % 5 < 3) {
      t.indexes.push({
        name: `ix_${table}_state_created_at`,
        elements: [{ column: "state" }, { column: "created_at", order: "desc" }],
        unique: false,
        where: "hidden = false",
      });
    }
    tables.push(t);
  }
  return { tables, enums };
}

/** Create the schema with few round trips (statements joined into batches). */
export async function createGenerated(conn: Connection, schema: Schema): Promise<void> {
  const statements = postgresDdl.createSchema(schema);
  for (let i = 0; i < statements.length; i += 200) {
    await conn.query(statements.slice(i, i + 200).join(";\n"));
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Milliseconds of each of `runs` introspections. */
export async function timeIntrospection(conn: Connection, runs = 5): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await introspectPostgres(conn);
    times.push(performance.now() - start);
  }
  return times;
}

async function main(): Promise<void> {
  const { createTempDatabase } = await import("../test/support/postgres.js");
  const tableCount = Number(process.env.BENCH_TABLES ?? 300);
  const schema = generateSchema(tableCount);
  const database = await createTempDatabase("retort_bench_introspect");
  const driver = createPostgresDriver(database.url, { schema });
  try {
    const created = performance.now();
    await createGenerated(driver, schema);
    console.log(`created ${tableCount} tables in ${(performance.now() - created).toFixed(0)} ms`);

    const cold = await timeIntrospection(driver, 1);
    const warm = await timeIntrospection(driver, 5);
    const result = await introspectPostgres(driver);
    const count = (f: (t: TableSchema) => number) => result.tables.reduce((sum, t) => sum + f(t), 0);
    console.log(
      `introspected ${result.tables.length} tables, ${count((t) => t.columns.length)} columns, ${count((t) => t.indexes.length)} indexes ` +
        `(${count((t) => t.indexes.filter((i) => i.where).length)} partial), ${count((t) => t.foreignKeys.length)} foreign keys, ` +
        `${count((t) => t.checks.length)} checks, ${result.enums.length} enums`,
    );
    console.log(`introspectPostgres: first run ${cold[0]!.toFixed(1)} ms, median of 5 ${median(warm).toFixed(1)} ms (runs: ${warm.map((t) => t.toFixed(1)).join(", ")}) [target < 1000 ms]`);

    // Reference: the database's own share (the same catalog statement through pg, results unparsed).
    const held = await driver.acquire();
    try {
      const raw: number[] = [];
      for (let r = 0; r < 5; r++) {
        const start = performance.now();
        await held.query(INTROSPECT_SQL, ["public", []]);
        raw.push(performance.now() - start);
      }
      console.log(`catalog statement alone (server + transfer): median of 5 ${median(raw).toFixed(1)} ms`);
    } finally {
      held.release();
    }
  } finally {
    await driver.close();
    await database.drop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
