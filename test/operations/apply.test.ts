/**
 * The fold: operations applied to a snapshot in memory. Immutable; errors name what is missing or
 * what the databases would refuse; dropping and renaming columns carry through to the indexes and
 * constraints that use them.
 */
import { describe, expect, it } from "vitest";
import { sql, t } from "../../src/index.js";
import { createOpRecorder, type MigrationOps } from "../../src/operations/api.js";
import { applyOperation, applyOperations } from "../../src/operations/apply.js";
import type { Op } from "../../src/operations/types.js";
import { EMPTY_SCHEMA, type Schema } from "../../src/schema/snapshot.js";


function record(build: (op: MigrationOps) => void): Op[] {
  const { op, ops } = createOpRecorder();
  build(op);
  return ops;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const base = deepFreeze(
  applyOperations(
    EMPTY_SCHEMA,
    record((op) => {
      op.createEnum("mood", ["happy", "sad"]);
      op.createTable("guilds", { id: t.integer().primaryKey(), name: t.text(), code: t.text().unique() });
      op.createTable(
        "members",
        {
          id: t.integer().primaryKey(),
          guild_id: t.integer().references("guilds.id"),
          nickname: t.text().nullable(),
          xp: t.integer().check("xp >= 0"),
          mood: t.text(),
        },
      );
      op.createIndex(null, "members", [sql`lower("nickname")`], { where: "nickname <> ''" });
      op.createIndex(null, "members", ["guild_id", "xp"]);
      op.addUnique(null, "members", ["guild_id", "nickname"]);
      op.addCheck("ck_members_nick", "members", "length(nickname) < 20");
    }),
  ),
);

function apply(build: (op: MigrationOps) => void, schema: Schema = base): Schema {
  return applyOperations(schema, record(build));
}

function refusal(build: (op: MigrationOps) => void, schema: Schema = base): string {
  try {
    apply(build, schema);
  } catch (error) {
    expect((error as { code?: string }).code).toBe("RETORT_INVALID_OPERATION");
    return (error as Error).message;
  }
  throw new Error("expected the operation to be refused");
}

const members = (schema: Schema) => schema.tables.find((table) => table.name === "members")!;

describe("applyOperation", () => {
  it("never changes its input and shares untouched tables", () => {
    const after = apply((op) => op.addColumn("members", "bio", t.text().nullable()));
    expect(members(after).columns.map((c) => c.name)).toContain("bio");
    expect(members(base).columns.map((c) => c.name)).not.toContain("bio");
    expect(after.tables.find((table) => table.name === "guilds")).toBe(base.tables.find((table) => table.name === "guilds"));
  });

  it("drops a column's indexes and constraints with it, as Postgres does", () => {
    const after = apply((op) => op.dropColumn("members", "nickname"));
    expect(members(after).indexes.map((i) => i.name)).toEqual(["ix_members_guild_id_xp"]);
    expect(members(after).uniques).toEqual([]);
    expect(members(after).checks.map((c) => c.name)).toEqual(["ck_members_xp"]);
    expect(members(apply((op) => op.dropColumn("members", "id"))).primaryKey).toBeUndefined();
  });

  it("renames a column everywhere it is named, including expressions and other tables' references", () => {
    const after = apply((op) => {
      op.renameColumn("members", "nickname", "nick");
      op.renameColumn("guilds", "id", "guild_key");
    });
    const table = members(after);
    expect(table.indexes.find((i) => i.name === "ix_members_lower_nickname")).toEqual({
      name: "ix_members_lower_nickname",
      elements: [{ expression: 'lower("nick")' }],
      unique: false,
      where: `"nick" <> ''`,
    });
    expect(table.uniques).toEqual([{ name: "uq_members_guild_id_nickname", columns: ["guild_id", "nick"] }]);
    expect(table.checks.find((c) => c.name === "ck_members_nick")!.expression).toBe(`length("nick") < 20`);
    expect(table.foreignKeys[0]).toMatchObject({ refTable: "guilds", refColumns: ["guild_key"] });
  });

  it("renames a table in the foreign keys pointing at it", () => {
    const after = apply((op) => op.renameTable("guilds", "servers"));
    expect(members(after).foreignKeys[0]!.refTable).toBe("servers");
  });

  it("adds enum values in place and moves defaults along a renamed label", () => {
    const withDefault = apply((op) => op.alterColumn("members", "mood", { type: { kind: "enum", name: "mood" }, default: "sad" }));
    const after = apply((op) => {
      op.addEnumValue("mood", "meh", { after: "happy" });
      op.addEnumValue("mood", "first", { before: "happy" });
      op.addEnumValue("mood", "last");
      op.renameEnumValue("mood", "sad", "blue");
    }, withDefault);
    expect(after.enums).toEqual([{ name: "mood", values: ["first", "happy", "meh", "blue", "last"] }]);
    expect(members(after).columns.find((c) => c.name === "mood")!.default).toEqual({ kind: "literal", value: "blue" });
  });

  it("makes primary key columns NOT NULL", () => {
    const after = apply((op) => {
      op.createTable("tags", { a: t.text().nullable(), b: t.text() });
      op.addPrimaryKey(null, "tags", ["a", "b"]);
    });
    expect(after.tables.find((table) => table.name === "tags")!.columns.map((c) => c.nullable)).toEqual([false, false]);
  });

  it("leaves the schema alone for execute, run and bulkInsert", () => {
    for (const operation of record((op) => {
      op.execute("SELECT 1");
      op.run("noop", async () => {});
      op.bulkInsert("guilds", [{ id: 1, name: "x", code: "y" }]);
    })) {
      expect(applyOperation(base, operation)).toBe(base);
    }
  });

  it.each<[string, (op: MigrationOps) => void, RegExp]>([
    ["a missing table", (op) => op.addColumn("nope", "a", t.text()), /addColumn nope\.a: table "nope" does not exist/],
    ["a missing column", (op) => op.alterColumn("members", "nope", { nullable: true }), /column "members"\."nope" does not exist/],
    ["a missing index", (op) => op.dropIndex("ix_nope"), /index "ix_nope" does not exist/],
    ["a constraint dropped as an index", (op) => op.dropIndex("uq_members_guild_id_nickname"), /is a constraint of "members", not an index/],
    ["a missing constraint", (op) => op.dropConstraint("ck_nope", "members"), /constraint "ck_nope" does not exist on "members"/],
    ["a missing enum", (op) => op.addEnumValue("nope", "x"), /enum "nope" does not exist/],
    ["an existing table", (op) => op.createTable("guilds", { id: t.integer() }), /table "guilds" already exists/],
    ["an existing column", (op) => op.addColumn("members", "xp", t.integer()), /already exists/],
    ["a name already used", (op) => op.createIndex("pk_guilds", "members", ["xp"]), /"pk_guilds" is already used by an index or constraint of table "guilds"/],
    ["dropping a referenced table", (op) => op.dropTable("guilds"), /other tables still reference "guilds": "fk_members_guild_id_guilds" on "members"/],
    ["dropping a referenced column", (op) => op.dropColumn("guilds", "id"), /foreign keys reference "guilds"\."id"/],
    ["dropping a referenced key", (op) => op.dropConstraint("pk_guilds", "guilds"), /foreign keys depend on it/],
    ["a foreign key to a non-unique column", (op) => op.addForeignKey(null, "members", "mood", "guilds", "name"), /not its primary key or a unique constraint/],
    ["a foreign key to a missing table", (op) => op.addForeignKey(null, "members", "mood", "nope", "id"), /table "nope" does not exist/],
    ["a column of a missing enum", (op) => op.alterColumn("members", "mood", { type: { kind: "enum", name: "feeling" } }), /uses enum "feeling", which does not exist/],
    [
      "dropping an enum in use",
      (op) => {
        op.alterColumn("members", "mood", { type: { kind: "enum", name: "mood" } });
        op.dropEnum("mood");
      },
      /columns still use it: members\.mood/,
    ],
    ["an enum named like a table", (op) => op.createEnum("guilds", ["a"]), /already the name of a table/],
    ["a second primary key", (op) => op.addPrimaryKey(null, "guilds", "name"), /already has a primary key/],
    ["NULL in a primary key", (op) => op.alterColumn("members", "id", { nullable: true }), /is in the primary key/],
    ["a duplicate enum value", (op) => op.addEnumValue("mood", "sad"), /already has the value 'sad'/],
    ["a rename onto an existing column", (op) => op.renameColumn("members", "xp", "mood"), /already exists/],
    ["an unknown bulkInsert column", (op) => op.bulkInsert("guilds", [{ idd: 1 }]), /row 1 has "idd", which is not a column of "guilds"/],
    ["validating a missing constraint", (op) => op.validateConstraint("ck_nope", "members"), /no foreign key or check constraint "ck_nope"/],
  ])("refuses %s", (_what, build, message) => {
    expect(refusal(build)).toMatch(message);
  });
});
