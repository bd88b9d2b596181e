import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compareSchemas, schemasEqual } from "../../src/autogenerate/compare.js";
import { downgradeOperations } from "../../src/autogenerate/render.js";
import { loadConfig } from "../../src/env/config.js";
import { check, enumType, index, primaryKey, sql, t, table, unique, uniqueIndex, foreignKey } from "../../src/index.js";
import { Op, type Op as OpType } from "../../src/operations/types.js";
import { revisionGraph } from "../../src/runtime/api.js";
import { recordOperations } from "../../src/runtime/plan.js";
import { schemaFromModels } from "../../src/schema/from-models.js";
import { EMPTY_SCHEMA, type Dialect, type Schema } from "../../src/schema/snapshot.js";
import * as exampleModels from "../../examples/community-bot/schema.js";
import { canonicalSchema } from "./arbitraries.js";
import { fold } from "./support.js";

const describeOps = (ops: readonly OpType[]) => ops.map((op) => Op.describe(op));
const diff = (from: Schema, to: Schema, dialect: Dialect = "postgres", renames = {}) => compareSchemas(from, to, { dialect, renames });

/** compare, then check the two folds: from + ops = to, and to + downgrade = from. */
function roundTrip(from: Schema, to: Schema, dialect: Dialect = "postgres", renames = {}, exact = true) {
  const result = diff(from, to, dialect, renames);
  expect(result.decisions).toEqual([]);
  const after = fold(from, result.ops);
  expect(diff(after, to, dialect).ops).toEqual([]);
  if (exact) expect(canonicalSchema(after)).toEqual(canonicalSchema(to));
  const back = fold(after, downgradeOperations(result.ops, { from, dialect }));
  expect(diff(back, from, dialect).ops).toEqual([]);
  return result;
}

const mood = enumType("mood", ["happy", "sad"]);
const guilds = table("guilds", { id: t.bigint().primaryKey(), name: t.varchar(100) });

describe("compareSchemas: the example project", () => {
  it("finds nothing between its migrations and its models, on every dialect", async () => {
    const config = await loadConfig(resolve("examples/community-bot/retort.config.ts"));
    const graph = await revisionGraph({ config });
    let schema = EMPTY_SCHEMA;
    for (const revision of graph.revisions) schema = fold(schema, await recordOperations(revision, "up"));
    const models = schemaFromModels(exampleModels);
    for (const dialect of ["postgres", "pglite", "sqlite"] as const) {
      const result = diff(schema, models, dialect);
      expect(describeOps(result.ops)).toEqual([]);
      expect(result.decisions).toEqual([]);
    }
  });

  it("creates it from nothing in dependency order, and drops it in reverse", () => {
    const models = schemaFromModels(exampleModels);
    const result = roundTrip(EMPTY_SCHEMA, models);
    const kinds = describeOps(result.ops);
    expect(kinds.slice(0, 2).sort()).toEqual(["createEnum case_kind", "createEnum guild_role"]);
    expect(kinds.indexOf("createTable guilds")).toBeLessThan(kinds.indexOf("createTable members"));
    expect(kinds.indexOf("createTable members")).toBeLessThan(kinds.indexOf("createTable moderation_cases"));
    const drop = describeOps(diff(models, EMPTY_SCHEMA).ops);
    expect(drop.indexOf("dropTable members")).toBeLessThan(drop.indexOf("dropTable guilds"));
    expect(drop.indexOf("dropTable moderation_cases")).toBeLessThan(drop.indexOf("dropEnum case_kind"));
  });
});

describe("compareSchemas: columns", () => {
  const before = schemaFromModels([table("members", { id: t.bigint().primaryKey(), xp: t.integer(), nick: t.text().nullable(), bio: t.text() })]);

  it("adds, drops and alters columns, with previous state for the downgrade", () => {
    const after = schemaFromModels([
      table("members", { id: t.bigint().primaryKey(), xp: t.bigint().default(0n), nick: t.text(), level: t.smallint().default(1) }),
    ]);
    const result = roundTrip(before, after, "postgres", { notRenames: ["members.bio"] });
    expect(describeOps(result.ops)).toEqual(["dropColumn members.bio", "alterColumn members.xp (type, default)", "alterColumn members.nick (nullable)", "addColumn members.level"]);
    const alter = result.ops[1] as Extract<OpType, { kind: "alterColumn" }>;
    expect(alter.using).toBeUndefined(); // integer → bigint: an assignment cast exists
    expect(alter.previous).toEqual({ type: { kind: "integer" }, default: null });
    expect(result.destructive.map((warning) => warning.message)).toEqual(['drops column "members"."bio" and its values']);
  });

  it("writes USING where Postgres has no implicit cast, never on SQLite", () => {
    const from = schemaFromModels([table("t", { id: t.text().primaryKey(), n: t.text(), m: mood.column(), b: t.boolean() })]);
    const to = schemaFromModels([table("t", { id: t.text().primaryKey(), n: t.integer(), m: t.text(), b: t.integer() })]);
    const pg = diff(from, to).ops as Array<Extract<OpType, { kind: "alterColumn" }>>;
    expect(pg.filter((op) => op.kind === "alterColumn").map((op) => [op.name, op.using])).toEqual([
      ["n", "n::integer"],
      ["m", undefined],
      ["b", "b::integer"],
    ]);
    const sqlite = diff(from, to, "sqlite").ops as Array<Extract<OpType, { kind: "alterColumn" }>>;
    expect(sqlite.filter((op) => op.kind === "alterColumn").every((op) => op.using === undefined)).toBe(true);
    expect(diff(from, to).destructive.map((warning) => warning.op.kind === "alterColumn" && warning.op.name)).toEqual(["n", "b"]);
  });

  it("compares defaults by meaning: no false positives for Postgres' spellings", () => {
    const model = schemaFromModels([
      table("t", {
        id: t.uuid().primaryKey().defaultRandom(),
        at: t.timestamptz().defaultNow(),
        settings: t.jsonb().default({ a: 1 }),
        name: t.varchar(10).default("x"),
        score: t.numeric(10, 2).default("0.00"),
        role: mood.column().default("happy"),
      }),
    ]);
    const live: Schema = structuredClone(model);
    const columns = live.tables[0]!.columns;
    columns[0]!.default = { kind: "sql", sql: "gen_random_uuid()" };
    columns[1]!.default = { kind: "sql", sql: "CURRENT_TIMESTAMP" };
    columns[2]!.default = { kind: "sql", sql: `'{"a": 1}'::jsonb` };
    columns[3]!.default = { kind: "sql", sql: "'x'::character varying" };
    columns[4]!.default = { kind: "sql", sql: "0.00" };
    columns[5]!.default = { kind: "sql", sql: "'happy'::mood" };
    expect(describeOps(diff(live, model).ops)).toEqual([]);
    columns[3]!.default = { kind: "sql", sql: "'y'::character varying" };
    expect(describeOps(diff(live, model).ops)).toEqual(["alterColumn t.name (default)"]);
  });

  it("treats primary-key and identity columns as NOT NULL, and a PK added to an existing table sets NOT NULL explicitly", () => {
    const from = schemaFromModels([table("t", { a: t.integer().nullable(), b: t.text().nullable() })]);
    // The model leaves them nullable; the database (and the fold) make them NOT NULL.
    const to = schemaFromModels([table("t", { a: t.integer().nullable(), b: t.text().nullable() }, (c) => [primaryKey(c.a, c.b)])]);
    const result = roundTrip(from, to, "postgres", {}, false);
    expect(describeOps(result.ops)).toEqual(["alterColumn t.a (nullable)", "alterColumn t.b (nullable)", "addPrimaryKey pk_t on t"]);
    // Introspected: the database made them NOT NULL.
    const live = structuredClone(to);
    for (const column of live.tables[0]!.columns) column.nullable = false;
    expect(diff(live, to).ops).toEqual([]);
  });

  it("compares comments (empty is none); changes them with alterColumn", () => {
    const from = schemaFromModels([table("t", { id: t.text().primaryKey(), a: t.text().comment("old") })]);
    const to = schemaFromModels([table("t", { id: t.text().primaryKey(), a: t.text() })]);
    expect(describeOps(roundTrip(from, to).ops)).toEqual(["alterColumn t.a (comment)"]);
    expect(describeOps(diff(from, to, "postgres").ops)).toEqual(["alterColumn t.a (comment)"]);
    expect(compareSchemas(from, to, { dialect: "postgres", ignoreComments: true }).ops).toEqual([]);
  });

  it("changes identity with op.execute on Postgres (there is no operation for it) and says so", () => {
    const from = schemaFromModels([table("t", { id: t.integer().primaryKey() })]);
    const to = schemaFromModels([table("t", { id: t.integer().identity().primaryKey() })]);
    const result = diff(from, to);
    expect(result.ops).toEqual([
      {
        kind: "execute",
        sql: 'ALTER TABLE "t" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY',
        reverseSql: 'ALTER TABLE "t" ALTER COLUMN "id" DROP IDENTITY',
      },
    ]);
    expect(result.notes.join("\n")).toMatch(/identity of "t"."id" changes/);
    // A default goes first (Postgres refuses an identity on a column with one); back the other way, it returns.
    const withDefault = schemaFromModels([table("t", { id: t.integer().primaryKey().default(7) })]);
    expect(diff(withDefault, to).ops.map((op) => (op.kind === "execute" ? op.sql : Op.describe(op)))).toEqual([
      "alterColumn t.id (default)",
      'ALTER TABLE "t" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY',
    ]);
    expect(diff(to, withDefault).ops.map((op) => (op as { sql: string }).sql)).toEqual([
      'ALTER TABLE "t" ALTER COLUMN "id" DROP IDENTITY',
      'ALTER TABLE "t" ALTER COLUMN "id" SET DEFAULT 7',
    ]);
    expect(diff(from, to, "sqlite").ops).toEqual([]);
    expect(diff(from, to, "sqlite").notes.join("\n")).toMatch(/write this step by hand/);
  });
});

describe("compareSchemas: indexes and constraints by definition", () => {
  const base = (extras: (c: any) => any[]) =>
    schemaFromModels([table("members", { id: t.bigint().primaryKey(), nickname: t.varchar(40).nullable(), deleted_at: t.timestamptz().nullable(), xp: t.integer() }, extras)]);

  it("sees Postgres' rendering of a partial expression index as the same index", () => {
    const model = base((c) => [unique(c.id, sql`lower(nickname)`).where(sql`deleted_at IS NULL`), check("xp_positive", sql`xp >= 0`)]);
    const live = structuredClone(model);
    const table0 = live.tables[0]!;
    table0.indexes[0] = { ...table0.indexes[0]!, elements: [{ column: "id" }, { expression: "lower((nickname)::text)" }], where: "(deleted_at IS NULL)", using: "btree" };
    table0.checks[0] = { ...table0.checks[0]!, expression: "((xp >= 0))" };
    expect(describeOps(diff(live, model).ops)).toEqual([]);
  });

  it("a changed definition is drop + create; a renamed index too, with a note", () => {
    const from = base((c) => [index(c.xp), index(c.nickname).name("nick_idx"), check("xp_positive", sql`xp >= 0`)]);
    const to = base((c) => [index(c.xp).where(sql`xp > 0`), index(c.nickname).name("ix_nick"), check("xp_positive", sql`xp > 0`)]);
    const result = roundTrip(from, to);
    expect(describeOps(result.ops)).toEqual([
      "dropConstraint ck_members_xp_positive on members",
      "dropIndex ix_members_xp",
      "dropIndex nick_idx",
      "createIndex ix_members_xp on members",
      "createIndex ix_nick on members",
      "addCheck ck_members_xp_positive on members",
    ]);
    expect(result.notes).toEqual([expect.stringMatching(/index "nick_idx" on "members" is renamed to "ix_nick": done as dropIndex \+ createIndex/)]);
  });

  it("a unique constraint and a plain unique index on the same columns are different objects (uniqueIndex() says which)", () => {
    const model = base((c) => [unique(c.nickname)]);
    const live = structuredClone(model);
    live.tables[0]!.uniques = [];
    live.tables[0]!.indexes = [{ name: "uq_members_nickname", elements: [{ column: "nickname" }], unique: true }];
    for (const dialect of ["postgres", "sqlite"] as const) {
      expect(describeOps(diff(live, model, dialect).ops)).toEqual(["dropIndex uq_members_nickname", "addUnique uq_members_nickname on members"]);
      expect(describeOps(diff(model, live, dialect).ops)).toEqual(["dropConstraint uq_members_nickname on members", "createIndex uq_members_nickname on members"]);
      expect(diff(live, base((c) => [uniqueIndex(c.nickname)]), dialect).ops).toEqual([]);
    }
  });

  it("ignores the index method on SQLite, and asc (the default order) everywhere", () => {
    const model = base((c) => [index(c.nickname).using("gin")]);
    const live = structuredClone(model);
    delete live.tables[0]!.indexes[0]!.using;
    expect(diff(live, model, "sqlite").ops).toEqual([]);
    expect(describeOps(diff(live, model, "postgres").ops)).toEqual(["dropIndex ix_members_nickname", "createIndex ix_members_nickname on members"]);
    const asc = structuredClone(live);
    (asc.tables[0]!.indexes[0]!.elements[0] as { order?: string }).order = "asc";
    expect(diff(asc, live).ops).toEqual([]);
  });

  it("ignores SQLite's synthetic type CHECKs", () => {
    const model = schemaFromModels([table("t", { id: t.text().primaryKey(), name: t.varchar(5) })]);
    const live = structuredClone(model);
    live.tables[0]!.checks.push({ name: "ck_t_name_varchar", expression: 'length("name") <= 5' });
    expect(diff(live, model, "sqlite").ops).toEqual([]);
  });

  it("drops the foreign keys that depend on a key before dropping it, and adds them back after", () => {
    const parent = (name: string) =>
      table("parents", { id: t.bigint(), code: t.text() }, (c) => [primaryKey(c.id).name(name)]);
    const child = table("children", { id: t.bigint().primaryKey(), parent_id: t.bigint().references("parents.id", { onDelete: "cascade" }) });
    const from = schemaFromModels([parent("pk_parents"), child]);
    const to = schemaFromModels([parent("parents_pkey"), child]);
    const result = roundTrip(from, to);
    expect(describeOps(result.ops)).toEqual([
      "dropConstraint fk_children_parent_id_parents on children",
      "dropConstraint pk_parents on parents",
      "addPrimaryKey parents_pkey on parents",
      "addForeignKey fk_children_parent_id_parents on children",
    ]);
  });

  it("compares foreign keys by columns, target and actions", () => {
    const make = (onDelete: "cascade" | "set null") =>
      schemaFromModels([guilds, table("members", { id: t.bigint().primaryKey(), guild_id: t.bigint().nullable().references(() => guilds.id, { onDelete }) })]);
    const result = roundTrip(make("cascade"), make("set null"));
    expect(describeOps(result.ops)).toEqual(["dropConstraint fk_members_guild_id_guilds on members", "addForeignKey fk_members_guild_id_guilds on members"]);
  });
});

describe("compareSchemas: tables and dependency order", () => {
  it("creates referenced tables first; a cycle's closing key and composite keys come after", () => {
    const a = table("a", { id: t.bigint().primaryKey(), b_id: t.bigint().nullable().references("b.id") });
    const b = table("b", { id: t.bigint().primaryKey(), a_id: t.bigint().nullable().references("a.id") });
    const parent = table("parent", { x: t.bigint(), y: t.text() }, (c) => [primaryKey(c.x, c.y)]);
    const kid = table("kid", { id: t.bigint().primaryKey(), x: t.bigint(), y: t.text() }, (c) => [foreignKey([c.x, c.y], () => [parent.x, parent.y])]);
    const to = schemaFromModels([a, b, parent, kid]);
    const result = roundTrip(EMPTY_SCHEMA, to);
    expect(describeOps(result.ops)).toEqual([
      "createTable b",
      "createTable a",
      "createTable parent",
      "createTable kid",
      "addForeignKey fk_b_a_id_a on b",
      "addForeignKey fk_kid_x_y_parent on kid",
    ]);
    // Dropping them: the cycle is broken first, then referencing tables go before referenced ones.
    const drop = describeOps(roundTrip(to, EMPTY_SCHEMA).ops);
    expect(drop[0]).toMatch(/^dropConstraint fk_/);
    expect(drop.indexOf("dropTable kid")).toBeLessThan(drop.indexOf("dropTable parent"));
  });

  it("drops foreign keys into a dropped table first, and enums after the tables using them", () => {
    const from = schemaFromModels([mood, guilds, table("members", { id: t.bigint().primaryKey(), guild_id: t.bigint().references(() => guilds.id), m: mood.column() })]);
    const to = schemaFromModels([table("members", { id: t.bigint().primaryKey(), m: t.text() })]);
    const result = roundTrip(from, to);
    expect(describeOps(result.ops)).toEqual([
      "dropConstraint fk_members_guild_id_guilds on members",
      "dropTable guilds",
      "dropColumn members.guild_id",
      "alterColumn members.m (type)",
      "dropEnum mood",
    ]);
  });

  it("changes a table comment with op.execute on Postgres", () => {
    const from = schemaFromModels([table("t", { id: t.text().primaryKey() }, undefined, { comment: "old" })]);
    const to = schemaFromModels([table("t", { id: t.text().primaryKey() }, undefined, { comment: "it's new" })]);
    expect(diff(from, to).ops).toEqual([
      { kind: "execute", sql: `COMMENT ON TABLE "t" IS 'it''s new'`, reverseSql: `COMMENT ON TABLE "t" IS 'old'` },
    ]);
  });
});

describe("compareSchemas: enums", () => {
  const withEnum = (values: string[]) =>
    schemaFromModels([enumType("mood", values as [string, ...string[]]), table("t", { id: t.text().primaryKey(), m: enumType("mood", values as [string, ...string[]]).column() })]);

  it("adds values in place (before/after keep the order)", () => {
    const result = roundTrip(withEnum(["b", "d"]), withEnum(["a", "b", "c", "d", "e"]));
    expect(result.ops.map((op) => JSON.parse(JSON.stringify(op)))).toEqual([
      { kind: "addEnumValue", enum: "mood", value: "a", before: "b" },
      { kind: "addEnumValue", enum: "mood", value: "c", after: "b" },
      { kind: "addEnumValue", enum: "mood", value: "e" },
    ]);
  });

  it("removes a value by rebuilding the type through text (fold-exact, no raw SQL)", () => {
    const result = roundTrip(withEnum(["a", "b", "c"]), withEnum(["a", "c"]));
    expect(describeOps(result.ops)).toEqual(["alterColumn t.m (type)", "dropEnum mood", "createEnum mood", "alterColumn t.m (type)"]);
    const back = result.ops[3] as Extract<OpType, { kind: "alterColumn" }>;
    expect(back.using).toBe("m::mood");
    expect(result.destructive.map((warning) => warning.message)).toEqual(['narrows "t"."m" from text to enum mood: rows holding other values make it fail']);
    expect(result.notes.join("\n")).toMatch(/enum "mood" loses 'b'/);
  });

  it("drops and recreates checks and expression indexes on the rebuilt column", () => {
    const values = ["a", "b", "c"] as const;
    const make = (list: readonly string[]) => {
      const e = enumType("mood", list as [string, ...string[]]);
      return schemaFromModels([e, table("t", { id: t.text().primaryKey(), m: e.column() }, (c) => [index(c.id).where(sql`m <> 'a'`), check("not_c", sql`m <> 'c'`)])]);
    };
    const result = roundTrip(make(values), make(["a", "c"]));
    const kinds = describeOps(result.ops);
    expect(kinds.indexOf("dropIndex ix_t_id")).toBeLessThan(kinds.indexOf("dropEnum mood"));
    expect(kinds.indexOf("createIndex ix_t_id on t")).toBeGreaterThan(kinds.indexOf("createEnum mood"));
  });

  it("asks before reading a lost and a gained value as a rename; renames when told", () => {
    const from = withEnum(["a", "b"]);
    const to = withEnum(["a", "bee"]);
    const undecided = diff(from, to);
    expect(undecided.decisions).toEqual([expect.objectContaining({ kind: "enumValue", enum: "mood", from: "b", to: "bee" })]);
    expect(undecided.ops).toEqual([]);
    const renamed = roundTrip(from, to, "postgres", { enumValues: { "mood.b": "bee" } });
    expect(describeOps(renamed.ops)).toEqual(["renameEnumValue mood 'b' → 'bee'"]);
    const dropped = roundTrip(from, to, "postgres", { notRenames: ["mood.b"] });
    expect(describeOps(dropped.ops)).toContain("dropEnum mood");
  });

  it("on SQLite: order does not matter and unused enums do not exist", () => {
    expect(diff(withEnum(["a", "b"]), withEnum(["b", "a"]), "sqlite").ops).toEqual([]);
    expect(describeOps(diff(withEnum(["a", "b"]), withEnum(["b", "a"]), "postgres").ops)).toContain("dropEnum mood");
    const unused = schemaFromModels([enumType("unused", ["x"]), table("t", { id: t.text().primaryKey() })]);
    const none = schemaFromModels([table("t", { id: t.text().primaryKey() })]);
    expect(diff(none, unused, "sqlite").ops).toEqual([]);
    expect(diff(unused, none, "sqlite").ops).toEqual([]);
    expect(describeOps(diff(none, unused, "postgres").ops)).toEqual(["createEnum unused"]);
  });
});

describe("compareSchemas: renames are never guessed", () => {
  const v1 = schemaFromModels([table("members", { id: t.bigint().primaryKey(), nick: t.text().nullable(), xp: t.integer() }, (c) => [index(c.nick)])]);
  const v2 = schemaFromModels([table("members", { id: t.bigint().primaryKey(), nickname: t.text().nullable(), xp: t.integer() }, (c) => [index(c.nickname)])]);

  it("lists the decision and produces no operation for the pair", () => {
    const result = diff(v1, v2);
    expect(result.decisions).toEqual([{ kind: "column", table: "members", from: "nick", to: "nickname", reason: expect.any(String) }]);
    expect(result.ops).toEqual([]);
  });

  it("a hint renames (and the downgrade renames back); notRenames drops and adds", () => {
    const renamed = roundTrip(v1, v2, "postgres", { columns: { "members.nick": "nickname" } });
    expect(describeOps(renamed.ops)).toEqual(["renameColumn members.nick → nickname", "dropIndex ix_members_nick", "createIndex ix_members_nickname on members"]);
    expect(describeOps(downgradeOperations(renamed.ops, { from: v1 }))).toEqual([
      "dropIndex ix_members_nickname",
      "createIndex ix_members_nick on members",
      "renameColumn members.nickname → nick",
    ]);
    const dropped = roundTrip(v1, v2, "postgres", { notRenames: ["members.nick"] });
    expect(describeOps(dropped.ops)).toContain("dropColumn members.nick");
  });

  it("reads .renamedFrom() in the model (and ignores it once applied)", () => {
    const model = schemaFromModels([table("members", { id: t.bigint().primaryKey(), nickname: t.text().nullable().renamedFrom("nick"), xp: t.integer() }, (c) => [index(c.nickname)])]);
    expect(describeOps(roundTrip(v1, model).ops)[0]).toBe("renameColumn members.nick → nickname");
    expect(diff(v2, model).ops).toEqual([]);
  });

  it("tables: same shape asks; a hint or the model's renamedFrom renames, foreign keys follow", () => {
    const a = schemaFromModels([guilds, table("members", { id: t.bigint().primaryKey(), guild_id: t.bigint().references("guilds.id") })]);
    const guildsV2 = table("servers", { id: t.bigint().primaryKey(), name: t.varchar(100) }, undefined, { renamedFrom: "guilds" });
    const b = schemaFromModels([guildsV2, table("members", { id: t.bigint().primaryKey(), guild_id: t.bigint().references(() => guildsV2.id) })]);
    const noHint: Schema = structuredClone(b);
    for (const tbl of noHint.tables) delete tbl.renamedFrom;
    const asked = diff(a, noHint);
    expect(asked.decisions).toEqual([expect.objectContaining({ kind: "table", from: "guilds", to: "servers" })]);
    expect(asked.ops).toEqual([]);
    const viaHint = roundTrip(a, noHint, "postgres", { tables: { guilds: "servers" } });
    expect(describeOps(viaHint.ops)[0]).toBe("renameTable guilds → servers");
    const viaModel = roundTrip(a, b);
    expect(describeOps(viaModel.ops)).toEqual(describeOps(viaHint.ops));
  });

  it("a hinted rename may give the old name to a new column", () => {
    const to = schemaFromModels([table("members", { id: t.bigint().primaryKey(), nickname: t.text().nullable(), xp: t.integer(), nick: t.boolean() }, (c) => [index(c.nickname)])]);
    const result = roundTrip(v1, to, "postgres", { columns: { "members.nick": "nickname" } });
    expect(describeOps(result.ops)).toEqual([
      "renameColumn members.nick → nickname",
      "dropIndex ix_members_nick",
      "addColumn members.nick",
      "createIndex ix_members_nickname on members",
    ]);
  });

  it("an ignored hint is reported", () => {
    expect(diff(v1, v1, "postgres", { columns: { "members.nope": "x" } }).notes).toEqual([expect.stringMatching(/rename hint members.nope → x ignored/)]);
  });
});

describe("schemasEqual", () => {
  it("is true for a schema and itself on every dialect", () => {
    const schema = schemaFromModels(exampleModels);
    for (const dialect of ["postgres", "pglite", "sqlite"] as const) expect(schemasEqual(schema, structuredClone(schema), dialect)).toBe(true);
  });
});
