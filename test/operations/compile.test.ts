/**
 * Compiling without a database: the SQL each dialect gets, the step flags, folding through a
 * list, and the offline script with parameters inlined as literals.
 */
import { describe, expect, it } from "vitest";
import { t } from "../../src/index.js";
import { createOpRecorder, type MigrationOps } from "../../src/operations/api.js";
import { applyOperations } from "../../src/operations/apply.js";
import { compileOperation, compileOperations, inlineParams, renderOfflineSql } from "../../src/operations/compile.js";
import type { Op } from "../../src/operations/types.js";
import { EMPTY_SCHEMA } from "../../src/schema/snapshot.js";


function record(build: (op: MigrationOps) => void): Op[] {
  const { op, ops } = createOpRecorder();
  build(op);
  return ops;
}

const schema = applyOperations(
  EMPTY_SCHEMA,
  record((op) => {
    op.createTable("guilds", { id: t.bigint().primaryKey(), name: t.text() });
    op.createTable("members", {
      id: t.bigint().primaryKey(),
      guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
      xp: t.integer().default(0),
      data: t.bytea().nullable(),
      on: t.boolean().nullable(),
    });
  }),
);

describe("compileOperation", () => {
  it("renders a Postgres type change around an existing default", () => {
    const [op] = record((op) => op.alterColumn("members", "xp", { type: t.bigint(), using: "xp::bigint", nullable: true }));
    expect(compileOperation(op!, "postgres", schema).map((step) => step.sql)).toEqual([
      'ALTER TABLE "members" ALTER COLUMN "xp" DROP DEFAULT, ALTER COLUMN "xp" TYPE bigint USING xp::bigint, ALTER COLUMN "xp" SET DEFAULT 0, ALTER COLUMN "xp" DROP NOT NULL',
    ]);
  });

  it("rebuilds the parent on SQLite with foreign keys off, checking the parent and its children", () => {
    const [op] = record((op) => op.alterColumn("guilds", "name", { nullable: true }));
    const steps = compileOperation(op!, "sqlite", schema);
    expect(steps.every((step) => step.foreignKeysOff === true)).toBe(true);
    expect(steps[0]).toMatchObject({ saveTriggers: "guilds" });
    expect(steps.filter((step) => step.checkForeignKeys !== undefined).map((step) => step.checkForeignKeys)).toEqual(["guilds", "members"]);
    expect(steps.find((step) => step.restoreTriggers)?.checkForeignKeys).toBe("guilds");
    expect(steps.map((step) => step.sql.split("\n")[0])).toEqual([
      expect.stringMatching(/^SELECT json_extract\('\{\}', 'Retort: PRAGMA foreign_keys must be OFF/),
      'CREATE TABLE "_retort_tmp_guilds" (',
      'INSERT INTO "_retort_tmp_guilds" ("id", "name") SELECT "id", "name" FROM "guilds"',
      'DROP TABLE "guilds"',
      "PRAGMA legacy_alter_table = ON",
      'ALTER TABLE "_retort_tmp_guilds" RENAME TO "guilds"',
      "PRAGMA legacy_alter_table = OFF",
      'PRAGMA foreign_key_check("members")',
    ]);
  });

  it("compiles enum types and validation to nothing on SQLite", () => {
    for (const op of record((op) => {
      op.createEnum("e", ["a"]);
    })) {
      expect(compileOperation(op, "sqlite", schema)).toEqual([]);
    }
  });

  it("refuses a run operation, and an operation the schema does not allow", () => {
    const [run] = record((op) => op.run("x", async () => {}));
    expect(() => compileOperation(run!, "postgres", schema)).toThrow(/run x: a data migration function cannot be compiled to SQL/);
    const [drop] = record((op) => op.dropTable("guilds"));
    expect(() => compileOperation(drop!, "sqlite", schema)).toThrow(/other tables still reference "guilds"/);
  });

  it("splits a large bulkInsert under the parameter limit and groups rows by the columns they give", () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ id: BigInt(i + 1), name: `g${i}` }));
    const [op] = record((op) => op.bulkInsert("guilds", [...rows, { id: 9999n }, {}]));
    for (const dialect of ["postgres", "sqlite"] as const) {
      const steps = compileOperation(op!, dialect, schema);
      expect(steps.map((step) => step.params?.length ?? 0)).toEqual([2000, 2000, 1000, 1, 0]);
      expect(steps.map((step) => step.description)).toEqual([
        "bulkInsert guilds (2502 rows), rows 1–1000",
        "bulkInsert guilds (2502 rows), rows 1001–2000",
        "bulkInsert guilds (2502 rows), rows 2001–2500",
        "bulkInsert guilds (2502 rows), row 2501",
        "bulkInsert guilds (2502 rows), row 2502",
      ]);
      expect(steps[4]!.sql).toBe('INSERT INTO "guilds" DEFAULT VALUES');
    }
  });
});

describe("compileOperations", () => {
  it("folds the schema through the list and keeps run operations as units without steps", () => {
    const ops = record((op) => {
      op.addColumn("guilds", "slug", t.text().nullable());
      op.run("backfill", async () => {});
      op.alterColumn("guilds", "slug", { nullable: false });
    });
    const compiled = compileOperations(ops, "postgres", schema);
    expect(compiled.units.map((unit) => [unit.op.kind, unit.steps.length])).toEqual([
      ["addColumn", 1],
      ["run", 0],
      ["alterColumn", 1],
    ]);
    expect(compiled.steps.map((step) => step.sql)).toEqual(['ALTER TABLE "guilds" ADD COLUMN "slug" text', 'ALTER TABLE "guilds" ALTER COLUMN "slug" SET NOT NULL']);
    expect(compiled.schema).toEqual(applyOperations(schema, ops));
  });
});

describe("offline SQL", () => {
  it("inlines parameters as literals of each dialect, leaving strings and comments alone", () => {
    const bytes = new Uint8Array([0, 171]);
    expect(inlineParams("SELECT $1, '$2', \"$1\", $2 -- $1\n, $$ $1 $$, $3, $4", ["it's", 5n, bytes, true], "postgres")).toBe(
      "SELECT 'it''s', '$2', \"$1\", 5 -- $1\n, $$ $1 $$, '\\x00ab'::bytea, TRUE",
    );
    expect(inlineParams("SELECT ?, '?', ?2, ?, /* ? */ ?", [null, 1.5, "x", false], "sqlite")).toBe("SELECT NULL, '?', 1.5, 'x', /* ? */ 0");
    expect(() => inlineParams("SELECT $2", [1], "postgres")).toThrow(/parameter 2 but only 1/);
  });

  it("renders steps with their descriptions, one statement per step, each ending with ;", () => {
    const ops = record((op) => {
      op.bulkInsert("members", [{ id: 1n, guild_id: 1n, xp: 3, data: new Uint8Array([1, 2]), on: true }]);
      op.createIndex(null, "members", ["xp"], { concurrently: true });
      op.execute("UPDATE guilds SET name = 'x';");
    });
    const { steps } = compileOperations(ops, "postgres", schema);
    expect(renderOfflineSql(steps, "postgres")).toBe(
      [
        "-- bulkInsert members (1 row)",
        `INSERT INTO "members" ("id", "guild_id", "xp", "data", "on") VALUES ('1', '1', 3, '\\x0102'::bytea, TRUE);`,
        "-- createIndex ix_members_xp on members",
        'CREATE INDEX CONCURRENTLY "ix_members_xp" ON "members" ("xp");',
        "-- execute UPDATE guilds SET name = 'x';",
        "UPDATE guilds SET name = 'x';",
        "",
      ].join("\n"),
    );
    const sqlite = compileOperations(ops.slice(0, 1), "sqlite", schema).steps;
    expect(renderOfflineSql(sqlite, "sqlite")).toContain(`INSERT INTO "members" ("id", "guild_id", "xp", "data", "on") VALUES (1, 1, 3, X'0102', 1);`);
  });

  it("marks where a SQLite rebuild needs the runtime to save and restore triggers", () => {
    const [op] = record((op) => op.addCheck("ck_guilds_name", "guilds", "name <> ''"));
    const script = renderOfflineSql(compileOperation(op!, "sqlite", schema), "sqlite");
    expect(script).toContain('-- (DROP TABLE removes the triggers on "guilds": save them from sqlite_master first)');
    expect(script).toContain('-- (re-create the saved triggers on "guilds" here)');
    expect(script.match(/;$/gm)).toHaveLength(8);
  });
});
