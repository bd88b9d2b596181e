/**
 * The `op` API: each call records one plain, frozen, JSON-serialisable operation named by the
 * same convention as models; bad input fails with a message saying what is wrong.
 */
import { describe, expect, it } from "vitest";
import { check, desc, index, primaryKey, schemaFromModels, sql, t, table, timestamps, unique } from "../../src/index.js";
import { createOpRecorder, enumColumn, serverDefault, type MigrationOps } from "../../src/operations/api.js";
import { Op } from "../../src/operations/types.js";
import { isRetortError, type RetortError } from "../../src/errors.js";

function record(build: (op: MigrationOps) => void): Op[] {
  const { op, ops } = createOpRecorder();
  build(op);
  return ops;
}

function failure(build: (op: MigrationOps) => void): RetortError {
  try {
    record(build);
  } catch (error) {
    if (isRetortError(error)) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("createTable", () => {
  it("builds the same TableSchema as the equivalent model", () => {
    const [op] = record((op) =>
      op.createTable(
        "members",
        {
          id: t.bigint().identity().primaryKey(),
          guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
          nickname: t.varchar(32).nullable().comment("shown name"),
          xp: t.integer().default(0).check(sql`xp >= 0`),
          ...timestamps(),
        },
        (c) => [unique(c.guild_id, c.nickname), index(desc(c.xp)).where(sql`${c.xp} > 100`), index(sql`lower(${c.nickname})`), check("short", "length(nickname) < 30")],
        { comment: "people" },
      ),
    );
    const guilds = table("guilds", { id: t.bigint().primaryKey() });
    const members = table(
      "members",
      {
        id: t.bigint().identity().primaryKey(),
        guildId: t.bigint().references(() => guilds.id, { onDelete: "cascade" }),
        nickname: t.varchar(32).nullable().comment("shown name"),
        xp: t.integer().default(0).check(sql`xp >= 0`),
        ...timestamps(),
      },
      (c) => [unique(c.guildId, c.nickname), index(desc(c.xp)).where(sql`${c.xp} > 100`), index(sql`lower(${c.nickname})`), check("short", "length(nickname) < 30")],
      { comment: "people" },
    );
    const model = schemaFromModels([guilds, members]).tables.find((candidate) => candidate.name === "members");
    expect(op).toEqual({ kind: "createTable", table: model });
    expect(op!.kind === "createTable" && op.table.columns.map((c) => c.name)).toEqual(["id", "guild_id", "nickname", "xp", "created_at", "updated_at"]);
  });

  it("accepts options without extras, table-level foreign keys by name, composite keys and enum columns", () => {
    const [plain] = record((op) => op.createTable("notes", { body: t.text() }, { comment: "free" }));
    expect(plain).toMatchObject({ kind: "createTable", table: { name: "notes", comment: "free" } });
    const [op] = record((op) =>
      op.createTable(
        "grants",
        { guild_id: t.bigint(), user_id: t.bigint(), role: enumColumn("member_role").default("member") },
        (c) => [primaryKey(c.guild_id, c.user_id)],
      ),
    );
    expect(op).toMatchObject({
      table: {
        primaryKey: { name: "pk_grants", columns: ["guild_id", "user_id"] },
        columns: [{ name: "guild_id" }, { name: "user_id" }, { name: "role", type: { kind: "enum", name: "member_role" }, default: { kind: "literal", value: "member" } }],
      },
    });
  });

  it("names a self-referencing foreign key by the convention", () => {
    const [op] = record((op) => op.createTable("categories", { id: t.integer().primaryKey(), parent_id: t.integer().nullable().references("categories.id") }));
    expect(op).toMatchObject({ table: { foreignKeys: [{ name: "fk_categories_parent_id_categories", refTable: "categories", refColumns: ["id"], onDelete: "no action" }] } });
  });
});

describe("recorded operations", () => {
  const build = (op: MigrationOps) => {
    op.addColumn("members", "bio", t.text().nullable());
    op.alterColumn("members", "xp", { type: t.bigint(), using: sql`xp::bigint`, nullable: true, default: 5n, comment: null });
    op.alterColumn("members", "seen", { default: serverDefault.now });
    op.alterColumn("members", "seen", { default: null });
    op.createIndex(null, "members", ["guild_id", sql`lower(nickname)`], { unique: true, where: "nickname IS NOT NULL", using: "btree", concurrently: true });
    op.dropIndex("ix_x", { table: "members" });
    op.addPrimaryKey(null, "tags", ["a", "b"]);
    op.addUnique(null, "tags", "a");
    op.addForeignKey(null, "members", "guild_id", "guilds", "id", { onDelete: "set null", notValid: true });
    op.addCheck("ck_members_xp", "members", sql`xp > 0`, { notValid: true });
    op.dropConstraint("ck_members_xp", "members");
    op.validateConstraint("fk_members_guild_id_guilds", "members");
    op.createEnum("mood", ["a", "b"]);
    op.addEnumValue("mood", "c", { before: "b" });
    op.renameEnumValue("mood", "a", "z");
    op.dropEnum("mood");
    op.execute("UPDATE t SET a = $1", [1n, new Date(0)], { reverseSql: "UPDATE t SET a = NULL" });
    op.execute(sql`SELECT 1`, { reverseSql: "SELECT 2" });
    op.bulkInsert("files", [{ id: 1n, data: new Uint8Array([1, 2]), doc: { a: [new Date(0)] } }]);
    op.renameTable("a", "b");
    op.renameColumn("b", "c", "d");
    op.dropColumn("b", "d");
    op.dropTable("b");
  };

  it("are plain data: frozen, and equal to themselves after a JSON round trip", () => {
    const ops = record(build);
    for (const op of ops) {
      expect(Object.isFrozen(op)).toBe(true);
      expect(JSON.parse(JSON.stringify(op))).toEqual(op);
      expect(Op.is(op)).toBe(true);
    }
    expect(Op.is({ kind: "nope" })).toBe(false);
    expect(() => {
      (ops[0] as { table: string }).table = "x";
    }).toThrow(TypeError);
  });

  it("carry database names and snapshot shapes", () => {
    const ops = record(build);
    expect(ops.slice(1, 5)).toEqual([
      { kind: "alterColumn", table: "members", name: "xp", type: { kind: "bigint" }, using: "xp::bigint", nullable: true, default: { kind: "literal", value: "5" }, comment: null },
      { kind: "alterColumn", table: "members", name: "seen", default: { kind: "now" } },
      { kind: "alterColumn", table: "members", name: "seen", default: null },
      {
        kind: "createIndex",
        table: "members",
        index: {
          name: "uq_members_guild_id_lower_nickname",
          elements: [{ column: "guild_id" }, { expression: "lower(nickname)" }],
          unique: true,
          where: "nickname IS NOT NULL",
          using: "btree",
        },
        concurrently: true,
      },
    ]);
    expect(ops[6]).toEqual({ kind: "addPrimaryKey", table: "tags", primaryKey: { name: "pk_tags", columns: ["a", "b"] } });
    expect(ops[7]).toEqual({ kind: "addUnique", table: "tags", unique: { name: "uq_tags_a", columns: ["a"] } });
    expect(ops[8]).toEqual({
      kind: "addForeignKey",
      table: "members",
      foreignKey: { name: "fk_members_guild_id_guilds", columns: ["guild_id"], refTable: "guilds", refColumns: ["id"], onDelete: "set null", onUpdate: "no action" },
      notValid: true,
    });
    expect(ops[16]).toEqual({ kind: "execute", sql: "UPDATE t SET a = $1", params: ["1", "1970-01-01T00:00:00.000Z"], reverseSql: "UPDATE t SET a = NULL" });
    expect(ops[17]).toEqual({ kind: "execute", sql: "SELECT 1", reverseSql: "SELECT 2" });
    expect(ops[18]).toEqual({ kind: "bulkInsert", table: "files", rows: [{ id: "1", data: "0102", doc: { a: ["1970-01-01T00:00:00.000Z"] } }] });
  });

  it("records a column's own constraints as their own operations", () => {
    const ops = record((op) => op.addColumn("members", "guild_id", t.bigint().references("guilds.id", { onDelete: "cascade" }).unique().index().check("guild_id > 0")));
    expect(ops.map((op) => Op.describe(op))).toEqual([
      "addColumn members.guild_id",
      "addUnique uq_members_guild_id on members",
      "createIndex ix_members_guild_id on members",
      "addForeignKey fk_members_guild_id_guilds on members",
      "addCheck ck_members_guild_id on members",
    ]);
  });

  it("keeps a run operation's function (not data)", async () => {
    let called = false;
    const [op] = record((op) => op.run("backfill", async () => void (called = true)));
    expect(op).toMatchObject({ kind: "run", description: "backfill" });
    expect(Op.isData(op!)).toBe(false);
    await (op as Extract<Op, { kind: "run" }>).fn(undefined as never);
    expect(called).toBe(true);
  });
});

describe("bad input", () => {
  it.each<[string, (op: MigrationOps) => void, RegExp]>([
    ["an unknown option", (op) => op.createIndex(null, "t", ["a"], { uniq: true } as never), /op\.createIndex\(\): unknown option "uniq"/],
    ["an empty column list", (op) => op.createIndex(null, "t", []), /at least one column or expression/],
    ["an empty unique", (op) => op.addUnique(null, "t", []), /non-empty list/],
    ["a missing table name", (op) => op.dropTable(""), /op\.dropTable\(\): the table name must be a non-empty string/],
    ["nothing to alter", (op) => op.alterColumn("t", "c", {}), /nothing to change/],
    ["using without a type", (op) => op.alterColumn("t", "c", { using: "c::int", nullable: true }), /using is only for a type change/],
    ["a type with modifiers", (op) => op.alterColumn("t", "c", { type: t.text().nullable() }), /bare type.*nullable\(\)/],
    ["a bad referential action", (op) => op.addForeignKey(null, "t", "a", "u", "id", { onDelete: "delete" as never }), /onDelete must be one of/],
    ["mismatched foreign key columns", (op) => op.addForeignKey(null, "t", ["a", "b"], "u", "id"), /2 column\(s\) but 1/],
    ["duplicate enum values", (op) => op.createEnum("e", ["a", "a"]), /listed twice/],
    ["before and after", (op) => op.addEnumValue("e", "x", { before: "a", after: "b" }), /not both/],
    ["a function in rows", (op) => op.bulkInsert("t", [{ a: () => 1 }]), /cannot be stored in a migration/],
    ["a bad reference", (op) => op.createTable("t", { a: t.integer().references("guilds" as never) }), /give the target as "table.column"/],
    ["a non-builder column", (op) => op.addColumn("t", "c", "text" as never), /builder/],
    ["a name clash with .name()", (op) => op.addColumn("t", "c", t.text().name("d")), /named "c" but its builder says .name\("d"\)/],
    ["a run without a function", (op) => op.run("x", undefined as never), /async function/],
  ])("refuses %s", (_what, build, message) => {
    const error = failure(build);
    expect(error.code === "RETORT_INVALID_OPERATION" || error.code === "RETORT_INVALID_MODEL").toBe(true);
    expect(error.message).toMatch(message);
  });
});
