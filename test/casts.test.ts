/**
 * Casts that exist (issue 10 item 6): a type change the database has no conversion for is a
 * decision (a USING expression, or drop-and-add marked destructive), never a migration that
 * cannot run. The Postgres facts are checked pair by pair against the real server: for every
 * pair of logical types, either the generated change runs, or Retort asks and the naive
 * `USING c::<type>` is indeed refused.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRetortError, upgrade } from "../src/index.js";
import { autogenerate } from "../src/runtime/schema-commands.js";
import { SOURCE_INDEX, createProject } from "./runtime/project.js";
import { compareSchemas } from "../src/autogenerate/compare.js";
import { renderMigrationBodies } from "../src/autogenerate/render.js";
import { columnType } from "../src/dialects/postgres/ddl.js";
import { compileOperations } from "../src/operations/compile.js";
import { Op, type Step } from "../src/operations/types.js";
import type { ColumnType, Dialect, Schema } from "../src/schema/snapshot.js";
import { type Backend, introspectBackend, openBackend, postgresUp, runSteps } from "./operations/support.js";

const TYPES: ColumnType[] = [
  { kind: "uuid" },
  { kind: "text" },
  { kind: "varchar", length: 10 },
  { kind: "smallint" },
  { kind: "integer" },
  { kind: "bigint" },
  { kind: "numeric", precision: 12, scale: 2 },
  { kind: "real" },
  { kind: "double" },
  { kind: "boolean" },
  { kind: "timestamptz" },
  { kind: "timestamp" },
  { kind: "date" },
  { kind: "time" },
  { kind: "jsonb" },
  { kind: "json" },
  { kind: "bytea" },
  { kind: "enum", name: "mood" },
  { kind: "enum", name: "state" },
  { kind: "array", element: { kind: "text" } },
  { kind: "array", element: { kind: "varchar", length: 10 } },
  { kind: "array", element: { kind: "integer" } },
  { kind: "array", element: { kind: "bigint" } },
  { kind: "array", element: { kind: "numeric", precision: 12, scale: 2 } },
  { kind: "array", element: { kind: "boolean" } },
  { kind: "array", element: { kind: "uuid" } },
  { kind: "array", element: { kind: "date" } },
];
const ENUMS = [
  { name: "mood", values: ["happy", "sad"] },
  { name: "state", values: ["on", "off"] },
];

/** A table `t` (id, c) with `c` of `type`. */
function schema(type: ColumnType): Schema {
  return {
    enums: structuredClone(ENUMS),
    tables: [
      {
        name: "t",
        columns: [
          { name: "id", type: { kind: "integer" }, nullable: false },
          { name: "c", type: structuredClone(type), nullable: true },
        ],
        primaryKey: { name: "pk_t", columns: ["id"] },
        uniques: [],
        indexes: [],
        foreignKeys: [],
        checks: [],
      },
    ],
  };
}

const label = (type: ColumnType) => (type.kind === "enum" ? `enum ${type.name}` : columnType(type));

describe("the property-test seed 928840011 case: uuid -> smallint", () => {
  const from = schema({ kind: "uuid" });
  const to = schema({ kind: "smallint" });

  it("Postgres has no cast: compare asks (kind cast) instead of writing USING ref::smallint", () => {
    for (const dialect of ["postgres", "pglite"] as const) {
      const result = compareSchemas(from, to, { dialect });
      expect(result.ops).toEqual([]);
      expect(result.decisions).toEqual([{ kind: "cast", table: "t", from: "c", to: "c", reason: "Postgres has no cast from uuid to smallint" }]);
    }
  });

  it("decided with a USING expression, or by drop-and-add (marked destructive)", () => {
    const using = compareSchemas(from, to, { dialect: "postgres", renames: { using: { "t.c": "NULL" } } });
    expect(using.decisions).toEqual([]);
    expect(using.ops).toMatchObject([{ kind: "alterColumn", table: "t", name: "c", type: { kind: "smallint" }, using: "NULL" }]);

    const recreate = compareSchemas(from, to, { dialect: "postgres", renames: { recreate: ["t.c"] } });
    expect(recreate.ops.map((op) => Op.describe(op))).toEqual(["dropColumn t.c", "addColumn t.c"]);
    expect(recreate.destructive.map((warning) => warning.message)).toEqual(['drops column "t"."c" and its values']);
    expect(recreate.notes.join("\n")).toContain('"t"."c" changes from uuid to smallint by dropping and adding the column');
    const bodies = renderMigrationBodies(recreate.ops, { from });
    expect(bodies.upgrade).toContain('// DESTRUCTIVE: drops column "t"."c" and its values\nop.dropColumn("t", "c");');
    expect(bodies.downgrade).toContain('op.addColumn("t", "c", t.uuid().nullable());');
  });

  it("SQLite converts it (text holding digits → integer, checked row by row): no question", () => {
    const result = compareSchemas(from, to, { dialect: "sqlite" });
    expect(result.decisions).toEqual([]);
    expect(result.ops.map((op) => Op.describe(op))).toEqual(["alterColumn t.c (type)"]);
  });
});

async function tryRun(backend: Backend, steps: readonly Step[]): Promise<string | undefined> {
  try {
    await runSteps(backend.driver, steps);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

for (const dialect of ["postgres", "sqlite"] as const satisfies Dialect[]) {
  describe.skipIf(dialect === "postgres" && !postgresUp)(`every pair of logical types [${dialect}]: the change runs, or Retort asks`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await openBackend(dialect);
    });
    afterAll(async () => backend?.close());

    it(`${TYPES.length * (TYPES.length - 1)} pairs`, async () => {
      const asked: string[] = [];
      const failures: string[] = [];
      for (const fromType of TYPES) {
        for (const toType of TYPES) {
          if (fromType === toType) continue;
          const from = schema(fromType);
          const to = schema(toType);
          const pair = `${label(fromType)} -> ${label(toType)}`;
          await backend.reset();
          await runSteps(backend.driver, compileOperations(compareSchemas({ tables: [], enums: [] }, from, { dialect }).ops, dialect, { tables: [], enums: [] }).steps);
          // One row with a NULL: converting it must work whatever the types.
          await backend.driver.query("INSERT INTO t (id, c) VALUES (1, NULL)");
          const result = compareSchemas(from, to, { dialect });
          if (result.decisions.length > 0) {
            asked.push(pair);
            expect(result.decisions.map((d) => d.kind)).toEqual(["cast"]);
            if (dialect === "postgres") {
              // Asking is right only if the plain cast is refused.
              const naive = `ALTER TABLE t ALTER COLUMN c TYPE ${columnType(toType)} USING c::${columnType(toType)}`;
              const refused = await tryRun(backend, [{ sql: naive, description: "the plain cast" }]);
              if (refused === undefined) failures.push(`${pair}: Retort asks, but USING c::${columnType(toType)} runs`);
            }
            continue;
          }
          const error = await tryRun(backend, compileOperations(result.ops, dialect, from).steps);
          if (error !== undefined) {
            failures.push(`${pair}: the generated change fails: ${error.split("\n")[0]}`);
            continue;
          }
          const after = compareSchemas(await introspectBackend(backend), to, { dialect });
          if (after.ops.length > 0) failures.push(`${pair}: after the change the database still differs (${after.ops.map((op) => Op.describe(op)).join(", ")})`);
        }
      }
      expect(failures).toEqual([]);
      // What each dialect cannot convert (kept visible: a change here is a change of behaviour).
      expect(asked.length).toBeGreaterThan(0);
      if (dialect === "postgres") {
        expect(asked).toContain("uuid -> smallint");
        expect(asked).not.toContain("text -> uuid");
        expect(asked).not.toContain("enum mood -> enum state");
        // Arrays convert element by element, with the elements' casts.
        expect(asked).not.toContain("text[] -> integer[]");
        expect(asked).not.toContain("integer[] -> boolean[]");
        expect(asked).toContain("uuid[] -> integer[]");
        expect(asked).toContain("integer[] -> integer");
      }
    }, 600_000);
  });
}

describe("revision --autogenerate with a type change that has no cast", () => {
  it("stops with RETORT_DECISIONS_NEEDED naming --using and --recreate; with --using it writes a migration that runs", async () => {
    const project = createProject();
    const modelsFile = join(project.root, "schema.ts");
    const write = (type: string) =>
      writeFileSync(modelsFile, `import { t, table } from ${JSON.stringify(SOURCE_INDEX)};\nexport const orders = table("orders", { id: t.integer().primaryKey(), ref: ${type}.nullable() });\n`);
    const config = { ...project.config, config: { ...project.config.config, models: "./schema.ts" } };
    const options = { config, url: "pglite:memory", dialect: "postgres" as const };
    write("t.uuid()");
    await autogenerate({ message: "orders" }, options);
    write("t.smallint()");
    const undecided = await autogenerate({ message: "ref" }, options).catch((error: unknown) => error);
    expect(isRetortError(undecided, "RETORT_DECISIONS_NEEDED")).toBe(true);
    expect((undecided as Error).message).toContain('type of orders.ref: Postgres has no cast from uuid to smallint  --using "orders.ref=<SQL>" or --recreate orders.ref');
    const decided = await autogenerate({ message: "ref", revId: "r_using" }, { ...options, renames: { using: { "orders.ref": "NULL" } } });
    const text = readFileSync(decided.path!, "utf8");
    expect(text).toContain('op.alterColumn("orders", "ref", { type: t.smallint(), using: "NULL" });');
    // The written migrations run on a real (embedded) Postgres.
    const dir = mkdtempSync(join(tmpdir(), "retort-casts-"));
    await upgrade("head", { config, url: `pglite:${dir}` });
  }, 120_000);
});
