/**
 * reverse(): each operation's undo, previous fields filled in from the schema, and
 * RETORT_IRREVERSIBLE naming the operation (and what to write instead) where no undo exists.
 */
import { describe, expect, it } from "vitest";
import { t } from "../../src/index.js";
import { createOpRecorder, type MigrationOps } from "../../src/operations/api.js";
import { applyOperations } from "../../src/operations/apply.js";
import { annotateOperation, reverseOperation, reverseOperations } from "../../src/operations/reverse.js";
import type { Op } from "../../src/operations/types.js";
import { isRetortError } from "../../src/errors.js";
import { canonical, reversibleScenario } from "./scenario.js";
import { EMPTY_SCHEMA } from "../../src/schema/snapshot.js";


function record(build: (op: MigrationOps) => void): Op[] {
  const { op, ops } = createOpRecorder();
  build(op);
  return ops;
}

const schema = applyOperations(
  EMPTY_SCHEMA,
  record((op) => {
    op.createEnum("mood", ["a", "b"]);
    op.createTable("guilds", { id: t.integer().primaryKey(), name: t.text().default("x").comment("shown"), code: t.text() },);
    op.createIndex(null, "guilds", ["code"]);
    op.addCheck("ck_guilds_code", "guilds", "length(code) > 1");
  }),
);

describe("reverseOperation", () => {
  it("pairs each operation with its undo", () => {
    const [create, add, rename, renameTable, index, check, enumOp, renameValue, execute] = record((op) => {
      op.createTable("x", { id: t.integer() });
      op.addColumn("guilds", "bio", t.text().nullable());
      op.renameColumn("guilds", "bio", "about");
      op.renameTable("guilds", "servers");
      op.createIndex("ix_a", "servers", ["about"], { concurrently: true });
      op.addCheck("ck_a", "servers", "about <> ''");
      op.createEnum("e", ["1"]);
      op.renameEnumValue("e", "1", "one");
      op.execute("INSERT 1", [], { reverseSql: "DELETE 1" });
    });
    expect(reverseOperation(create!)).toEqual({ kind: "dropTable", name: "x", previous: (create as { table: unknown }).table });
    expect(reverseOperation(add!)).toEqual({ kind: "dropColumn", table: "guilds", name: "bio", previous: { name: "bio", type: { kind: "text" }, nullable: true } });
    expect(reverseOperation(rename!)).toEqual({ kind: "renameColumn", table: "guilds", from: "about", to: "bio" });
    expect(reverseOperation(renameTable!)).toEqual({ kind: "renameTable", from: "servers", to: "guilds" });
    expect(reverseOperation(index!)).toMatchObject({ kind: "dropIndex", table: "servers", name: "ix_a", concurrently: true });
    expect(reverseOperation(check!)).toEqual({ kind: "dropConstraint", table: "servers", name: "ck_a", previous: { check: { name: "ck_a", expression: "about <> ''" } } });
    expect(reverseOperation(enumOp!)).toEqual({ kind: "dropEnum", name: "e", previous: { name: "e", values: ["1"] } });
    expect(reverseOperation(renameValue!)).toEqual({ kind: "renameEnumValue", enum: "e", from: "one", to: "1" });
    expect(reverseOperation(execute!)).toEqual({ kind: "execute", sql: "DELETE 1", reverseSql: "INSERT 1" });
    // Reversing twice gives the operation back.
    for (const op of [create, add, rename, renameTable, index, check, enumOp, renameValue, execute]) expect(reverseOperation(reverseOperation(op!))).toEqual(op);
  });

  it("reverses alterColumn from its previous values (null: there was none), with a cast back for types", () => {
    const [alter] = record((op) => op.alterColumn("guilds", "name", { type: t.varchar(10), nullable: true, default: null, comment: "new" }));
    const annotated = annotateOperation(schema, alter!);
    expect(annotated).toMatchObject({ previous: { type: { kind: "text" }, nullable: false, default: { kind: "literal", value: "x" }, comment: "shown" } });
    expect(reverseOperation(annotated)).toEqual({
      kind: "alterColumn",
      table: "guilds",
      name: "name",
      type: { kind: "text" },
      using: '"name"::text',
      nullable: false,
      default: { kind: "literal", value: "x" },
      comment: "shown",
      previous: { type: { kind: "varchar", length: 10 }, nullable: true, default: null, comment: "new" },
    });
  });

  it("fills previous from the schema for drops", () => {
    const ops = record((op) => {
      op.dropIndex("ix_guilds_code");
      op.dropConstraint("ck_guilds_code", "guilds");
      op.dropColumn("guilds", "code");
      op.dropTable("guilds");
      op.dropEnum("mood");
    });
    const undo = reverseOperations(ops, schema);
    expect(undo.map((op) => op.kind)).toEqual(["createEnum", "createTable", "addColumn", "addCheck", "createIndex"]);
    expect(canonical(applyOperations(applyOperations(schema, ops), undo))).toEqual(canonical(schema));
  });

  it("reverses a whole migration so that the fold returns to where it started", () => {
    const { op, ops } = createOpRecorder();
    reversibleScenario(op);
    const after = applyOperations(EMPTY_SCHEMA, ops);
    expect(applyOperations(after, reverseOperations(ops, EMPTY_SCHEMA))).toEqual(EMPTY_SCHEMA);
  });
});

describe("irreversible operations", () => {
  it.each<[string, (op: MigrationOps) => void, RegExp, RegExp]>([
    ["dropTable without its definition", (op) => op.dropTable("guilds"), /dropTable guilds cannot be reversed/, /op\.createTable\("guilds"/],
    ["dropColumn without its definition", (op) => op.dropColumn("guilds", "code"), /dropColumn guilds\.code cannot be reversed/, /op\.addColumn\("guilds", "code"/],
    ["dropIndex without its definition", (op) => op.dropIndex("ix_x"), /dropIndex ix_x cannot be reversed/, /op\.createIndex/],
    ["dropConstraint without its definition", (op) => op.dropConstraint("ck_x", "guilds"), /dropConstraint ck_x on guilds cannot be reversed/, /addCheck/],
    ["dropEnum without its values", (op) => op.dropEnum("mood"), /dropEnum mood cannot be reversed/, /op\.createEnum\("mood"/],
    ["alterColumn without previous values", (op) => op.alterColumn("guilds", "name", { nullable: true }), /previous nullable is not recorded/, /op\.alterColumn\("guilds", "name", \{ nullable: … \}\)/],
    ["addEnumValue", (op) => op.addEnumValue("mood", "c"), /addEnumValue mood 'c' cannot be reversed: Postgres cannot remove a value/, /Leave the value in place/],
    ["bulkInsert", (op) => op.bulkInsert("guilds", [{ id: 1 }]), /bulkInsert guilds \(1 row\) cannot be reversed/, /DELETE FROM/],
    ["execute without reverseSql", (op) => op.execute("UPDATE guilds SET name = 'x'"), /execute UPDATE guilds SET name = 'x' cannot be reversed/, /reverseSql/],
    ["run", (op) => op.run("backfill names", async () => {}), /run backfill names cannot be reversed/, /by hand/],
  ])("%s throws RETORT_IRREVERSIBLE naming the operation", (_what, build, message, hint) => {
    const [op] = record(build);
    let error: unknown;
    try {
      reverseOperation(op!);
    } catch (caught) {
      error = caught;
    }
    expect(isRetortError(error, "RETORT_IRREVERSIBLE")).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as { hint: string }).hint).toMatch(hint);
    expect(() => reverseOperations([op!])).toThrow(message);
  });
});
