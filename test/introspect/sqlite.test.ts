/**
 * The SQLite introspector on real SQLite (in memory and a file): a schema created by sqliteDdl
 * reads back as the snapshot it was made from (sorted by name), hand-made tables read sensibly,
 * Retort's own tables are left out, and a database changed by migrations (direct ALTERs and
 * rebuilds) reads back as the fold of those migrations.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as communityBot from "../../examples/community-bot/schema.js";
import type { Driver } from "../../src/dialects/driver.js";
import { sqliteDdl } from "../../src/dialects/sqlite/ddl.js";
import { createSqliteDriver } from "../../src/dialects/sqlite/driver.js";
import { introspectSqlite } from "../../src/dialects/sqlite/introspect.js";
import { parseCreateIndex, parseCreateTable, tokenize } from "../../src/dialects/sqlite/introspect-sql.js";
import { isRetortError, type RetortError } from "../../src/errors.js";
import { t } from "../../src/index.js";
import { createOpRecorder, enumColumn, type MigrationOps } from "../../src/operations/api.js";
import { applyOperations } from "../../src/operations/apply.js";
import { compileOperation } from "../../src/operations/compile.js";
import { createVersionTablesSql } from "../../src/runtime/version-table.js";
import { schemaFromModels } from "../../src/schema/from-models.js";
import { EMPTY_SCHEMA, type ColumnSchema, type ColumnType, type DefaultValue, type JsonValue, type Schema, type TableSchema } from "../../src/schema/snapshot.js";
import { allTypes, mood } from "../fixtures/all-types.js";
import { runSteps } from "../operations/support.js";
import { sorted } from "../support/schema.js";

/** What SQLite cannot keep: an index's access method. */
function withoutUsing(schema: Schema): Schema {
  return {
    ...schema,
    tables: schema.tables.map((table) => ({ ...table, indexes: table.indexes.map(({ using: _using, ...index }) => index) })),
  };
}

const col = (name: string, type: ColumnType, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({ name, type, nullable: true, ...extra });
const tbl = (name: string, extra: Partial<TableSchema>): TableSchema => ({ name, columns: [], uniques: [], indexes: [], foreignKeys: [], checks: [], ...extra });
const lit = (value: JsonValue): DefaultValue => ({ kind: "literal", value });

/** Every default kind on every type, composite keys, actions, indexes of every shape, checks, comments, odd names. */
const everything: Schema = {
  enums: [
    { name: "status", values: ["draft", "published", "a'b", "c, d", ") x", ""] },
    { name: 'we"ird */ enum', values: ["x"] },
  ],
  tables: [
    tbl("parents", {
      comment: "the parents -- with a dash, */ and 'quotes'",
      columns: [
        col("a", { kind: "uuid" }, { nullable: false, comment: "first key part" }),
        col("b", { kind: "integer" }, { nullable: false }),
        col("label", { kind: "varchar", length: 40 }, { comment: "" }),
      ],
      primaryKey: { name: "pk_parents", columns: ["a", "b"] },
      uniques: [
        { name: "uq_parents_label", columns: ["label"] },
        { name: "uq_parents_b_a", columns: ["b", "a"] },
      ],
    }),
    tbl("children", {
      columns: [
        col("id", { kind: "bigint" }, { nullable: false, identity: "always", comment: "the rowid" }),
        col("pa", { kind: "uuid" }),
        col("pb", { kind: "integer" }),
        col("uuid_lit", { kind: "uuid" }, { default: lit("6f1c3a52-9d7e-4b1a-8c3e-2a4b5c6d7e8f") }),
        col("uuid_rand", { kind: "uuid" }, { nullable: false, default: { kind: "random-uuid" } }),
        col("text_lit", { kind: "text" }, { default: lit("it's -- not a comment /* nor this */") }),
        col("text_sql", { kind: "text" }, { default: { kind: "sql", sql: "lower('ABC')" } }),
        col("text_null", { kind: "text" }, { default: lit(null) }),
        col("varchar_lit", { kind: "varchar", length: 5 }, { default: lit("abc") }),
        col("small_lit", { kind: "smallint" }, { default: lit(-5) }),
        col("int_lit", { kind: "integer" }, { nullable: false, default: lit(42) }),
        col("int_sql", { kind: "integer" }, { default: { kind: "sql", sql: "1 + 2" } }),
        col("int_paren_sql", { kind: "integer" }, { default: { kind: "sql", sql: "7" } }),
        col("big_lit", { kind: "bigint" }, { default: lit("9007199254740993") }),
        col("big_neg", { kind: "bigint" }, { default: lit("-9223372036854775808") }),
        col("num_lit", { kind: "numeric", precision: 10, scale: 2 }, { default: lit("12.50") }),
        col("num_free", { kind: "numeric" }, { default: lit("-1.500") }),
        col("real_lit", { kind: "real" }, { default: lit(1.5) }),
        col("double_lit", { kind: "double" }, { default: lit(-2.5e-7) }),
        col("bool_true", { kind: "boolean" }, { nullable: false, default: lit(true) }),
        col("bool_false", { kind: "boolean" }, { default: lit(false) }),
        col("tstz_now", { kind: "timestamptz" }, { nullable: false, default: { kind: "now" } }),
        col("ts_lit", { kind: "timestamp" }, { default: lit("2024-03-10T01:59:59.123Z") }),
        col("date_now", { kind: "date" }, { default: { kind: "now" } }),
        col("date_lit", { kind: "date" }, { default: lit("2024-02-29") }),
        col("time_now", { kind: "time" }, { default: { kind: "now" } }),
        col("time_lit", { kind: "time" }, { default: lit("12:34:56.5") }),
        col("jsonb_lit", { kind: "jsonb" }, { nullable: false, default: lit({ theme: "dark", limits: [1, 2], nested: { ok: true, none: null } }) }),
        col("json_lit", { kind: "json" }, { default: lit([1, "two", null]) }),
        col("json_string", { kind: "json" }, { default: lit("just text") }),
        col("bytes_lit", { kind: "bytea" }, { default: lit("00ff10") }),
        col("status", { kind: "enum", name: "status" }, { nullable: false, default: lit("a'b"), comment: "enum with odd labels" }),
        col("weird", { kind: "enum", name: 'we"ird */ enum' }),
        col("tags", { kind: "array", element: { kind: "text" } }, { default: lit(["x", "y"]) }),
        col("names", { kind: "array", element: { kind: "varchar", length: 30 } }, { default: lit(["a,b", '"']) }),
        col("words", { kind: "array", element: { kind: "varchar" } }, { default: lit([]) }),
        col("smalls", { kind: "array", element: { kind: "smallint" } }, { default: lit([-1, 2]) }),
        col("ints", { kind: "array", element: { kind: "integer" } }),
        col("bigs", { kind: "array", element: { kind: "bigint" } }, { default: lit(["9007199254740993", "-5"]) }),
        col("ids", { kind: "array", element: { kind: "uuid" } }),
        col("flags", { kind: "array", element: { kind: "boolean" } }, { default: lit([true, false]) }),
        col("reals", { kind: "array", element: { kind: "real" } }),
        col("doubles", { kind: "array", element: { kind: "double" } }, { default: lit([-0.1]) }),
        col("amounts", { kind: "array", element: { kind: "numeric", precision: 10, scale: 2 } }, { default: lit(["1.50"]) }),
        col("decimals", { kind: "array", element: { kind: "numeric" } }),
        col("days", { kind: "array", element: { kind: "date" } }, { default: lit(["2024-02-29"]) }),
        col('odd "col"', { kind: "text" }, { comment: "a quoted name" }),
      ],
      primaryKey: { name: "pk_children", columns: ["id"] },
      foreignKeys: [
        { name: "fk_children_pa_pb_parents", columns: ["pa", "pb"], refTable: "parents", refColumns: ["a", "b"], onDelete: "cascade", onUpdate: "set null" },
        { name: "fk_children_pb_parents", columns: ["pb", "pa"], refTable: "parents", refColumns: ["b", "a"], onDelete: "set default", onUpdate: "restrict" },
      ],
      checks: [
        { name: "ck_children_positive", expression: "int_lit > 0 AND (small_lit IS NULL OR small_lit <> -1)" },
        { name: "ck_children_text", expression: "text_lit <> ')' -- ok" + "\n" },
      ],
      indexes: [
        { name: "ix_children_pb_desc", elements: [{ column: "pb", order: "desc" }, { column: "pa", order: "asc" }, { column: "int_lit" }], unique: false },
        { name: "uq_children_text_lit_live", elements: [{ column: "text_lit" }], unique: true, where: "status <> 'draft' AND text_lit IS NOT NULL" },
        { name: "ix_children_lower_text", elements: [{ expression: "lower(text_lit)", order: "desc" }, { expression: "(int_lit + 1)" }], unique: false },
        { name: 'ix "odd"', elements: [{ column: 'odd "col"' }], unique: false },
      ],
    }),
    tbl("small_ids", {
      comment: "identity by default",
      columns: [col("id", { kind: "smallint" }, { nullable: false, identity: "by-default" }), col("note", { kind: "text" }, { comment: "last line" })],
      primaryKey: { name: "pk_small_ids_custom", columns: ["id"] },
    }),
    tbl("plain_int_pk", {
      columns: [col("id", { kind: "integer" }, { nullable: false }), col("status", { kind: "enum", name: "status" })],
      primaryKey: { name: "pk_plain_int_pk", columns: ["id"] },
    }),
    tbl("no_pk", { columns: [col("x", { kind: "text" })] }),
    tbl("only_id", {
      columns: [col("id", { kind: "integer" }, { nullable: false, identity: "always", comment: "alone: no comma before the annotation" })],
      primaryKey: { name: "pk_only_id", columns: ["id"] },
    }),
  ],
};

let driver: Driver;

async function create(schema: Schema, target = driver): Promise<void> {
  for (const statement of sqliteDdl.createSchema(schema)) await target.query(statement);
}

describe("SQLite introspection", () => {
  beforeEach(() => {
    driver = createSqliteDriver(":memory:", { schema: EMPTY_SCHEMA });
  });
  afterEach(async () => {
    await driver.close();
  });

  it("reads the example models back exactly (the index method aside)", async () => {
    const models = schemaFromModels(communityBot);
    await create(models);
    const read = await introspectSqlite(driver);
    expect(read).toStrictEqual(withoutUsing(sorted(models)));
    // The one unavoidable difference: SQLite has no index methods.
    const gin = sorted(models).tables.find((table) => table.name === "members")!.indexes.find((index) => index.using === "gin");
    expect(gin).toBeDefined();
    expect(read.tables.find((table) => table.name === "members")!.indexes.find((index) => index.name === gin!.name)).not.toHaveProperty("using");
  });

  it("reads every column type back (test/fixtures/all-types.ts)", async () => {
    const models = schemaFromModels({ allTypes, mood });
    await create(models);
    expect(await introspectSqlite(driver)).toStrictEqual(sorted(models));
  });

  it("reads every default kind, key, action, index shape, check, comment and odd name back", async () => {
    await create(everything);
    expect(await introspectSqlite(driver)).toStrictEqual(sorted(everything));
  });

  it("works on a database file too, and after reopening it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-introspect-"));
    try {
      const file = join(dir, "db.sqlite");
      const first = createSqliteDriver(file, { schema: EMPTY_SCHEMA });
      await create(everything, first);
      expect(await introspectSqlite(first)).toEqual(sorted(everything));
      await first.close();
      const again = createSqliteDriver(file, { schema: EMPTY_SCHEMA });
      expect(await introspectSqlite(again)).toEqual(sorted(everything));
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves out Retort's tables, excluded tables, views, virtual and internal tables", async () => {
    await create(everything);
    for (const sql of createVersionTablesSql("sqlite")) await driver.query(sql);
    await driver.query("CREATE VIEW v AS SELECT * FROM parents");
    await driver.query("CREATE VIRTUAL TABLE docs USING fts5(body)");
    await driver.query("ANALYZE"); // makes sqlite_stat1
    const read = await introspectSqlite(driver, { exclude: ["no_pk"] });
    expect(read.tables.map((table) => table.name)).toEqual(["children", "only_id", "parents", "plain_int_pk", "small_ids"]);
  });

  it("reports unavoidable normalisations explicitly", async () => {
    const input: Schema = {
      enums: [{ name: "unused", values: ["x"] }],
      tables: [
        tbl("norm", {
          comment: "two\nlines",
          columns: [
            // SQLite's rowid cannot be NULL, whatever the snapshot said.
            col("id", { kind: "integer" }, { nullable: true, identity: "by-default" }),
            col("num", { kind: "numeric", precision: 10, scale: 2 }, { default: lit("1.5") }),
            col("big", { kind: "bigint" }, { default: lit(7) }),
            col("int_text", { kind: "integer" }, { default: lit("8") }),
            col("time", { kind: "time" }, { default: lit("9:05") }),
            col("ts", { kind: "timestamptz" }, { default: lit("2024-01-02") }),
            col("bytes", { kind: "bytea" }, { default: lit("\\xABCD") }),
            col("c", { kind: "text" }, { comment: "line\r\nbreak" }),
          ],
          primaryKey: { name: "pk_norm", columns: ["id"] },
          indexes: [{ name: "ix_norm_c", elements: [{ column: "c" }], unique: false, using: "hash" }],
        }),
      ],
    };
    await create(input);
    const read = await introspectSqlite(driver);
    expect(read).toEqual({
      enums: [], // enums no column uses leave no trace on SQLite
      tables: [
        tbl("norm", {
          comment: "two lines", // line breaks in comments become spaces (one `--` line each)
          columns: [
            col("id", { kind: "integer" }, { nullable: false, identity: "by-default" }),
            col("num", { kind: "numeric", precision: 10, scale: 2 }, { default: lit("1.50") }), // canonical numeric
            col("big", { kind: "bigint" }, { default: lit("7") }), // bigint literals are digit strings
            col("int_text", { kind: "integer" }, { default: lit(8) }), // integer literals are numbers
            col("time", { kind: "time" }, { default: lit("09:05:00") }), // canonical time
            col("ts", { kind: "timestamptz" }, { default: lit("2024-01-02T00:00:00.000Z") }), // ISO UTC text
            col("bytes", { kind: "bytea" }, { default: lit("abcd") }), // lowercase hex, no \x
            col("c", { kind: "text" }, { comment: "line break" }),
          ],
          primaryKey: { name: "pk_norm", columns: ["id"] },
          indexes: [{ name: "ix_norm_c", elements: [{ column: "c" }], unique: false }], // no `using`
        }),
      ],
    });
  });

  it("reads a table Retort did not make", async () => {
    await driver.query(`CREATE TABLE t (a INT, b TEXT)`);
    await driver.query(`CREATE TABLE hand (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code VARCHAR(12) NOT NULL UNIQUE,
      price DECIMAL(10, 2) DEFAULT 0,
      ratio DOUBLE PRECISION,
      active BOOL DEFAULT TRUE,
      created DATETIME DEFAULT CURRENT_TIMESTAMP,
      t_id INT REFERENCES t ON DELETE CASCADE,
      note CLOB CHECK (length(note) < 100) CHECK (note <> ''),
      CHECK (price >= 0),
      UNIQUE (code, t_id),
      FOREIGN KEY (t_id) REFERENCES t (a) ON UPDATE SET NULL
    )`);
    await driver.query(`CREATE INDEX hand_created ON hand (created DESC, lower(code))`);
    const read = await introspectSqlite(driver);
    expect(read).toEqual({
      enums: [],
      tables: [
        tbl("hand", {
          columns: [
            // AUTOINCREMENT: never reuses a number, like a sequence.
            col("id", { kind: "integer" }, { nullable: false, serial: true }),
            col("code", { kind: "varchar", length: 12 }, { nullable: false }),
            col("price", { kind: "numeric", precision: 10, scale: 2 }, { default: lit("0.00") }),
            col("ratio", { kind: "double" }),
            col("active", { kind: "boolean" }, { default: lit(true) }),
            col("created", { kind: "timestamp" }, { default: { kind: "sql", sql: "CURRENT_TIMESTAMP" } }),
            col("t_id", { kind: "integer" }),
            col("note", { kind: "text" }),
          ],
          primaryKey: { name: "pk_hand", columns: ["id"] },
          uniques: [
            { name: "uq_hand_code", columns: ["code"] },
            { name: "uq_hand_code_t_id", columns: ["code", "t_id"] },
          ],
          foreignKeys: [
            // Two unnamed keys on the same column and table share the conventional name.
            { name: "fk_hand_t_id_t", columns: ["t_id"], refTable: "t", refColumns: [], onDelete: "cascade", onUpdate: "no action" },
            { name: "fk_hand_t_id_t", columns: ["t_id"], refTable: "t", refColumns: ["a"], onDelete: "no action", onUpdate: "set null" },
          ],
          checks: [
            { name: "ck_hand_1", expression: "price >= 0" },
            { name: "ck_hand_note", expression: "length(note) < 100" },
            { name: "ck_hand_note_2", expression: "note <> ''" },
          ],
          indexes: [{ name: "hand_created", elements: [{ column: "created", order: "desc" }, { expression: "lower(code)" }], unique: false }],
        }),
        tbl("t", { columns: [col("a", { kind: "integer" }), col("b", { kind: "text" })] }),
      ],
    });
  });

  it("resolves a reference to the parent's primary key when no columns are named", async () => {
    await driver.query(`CREATE TABLE p (x TEXT, y INT, PRIMARY KEY (y, x))`);
    await driver.query(`CREATE TABLE c (y INT, x TEXT, CONSTRAINT c_p FOREIGN KEY (y, x) REFERENCES p)`);
    const read = await introspectSqlite(driver);
    expect(read.tables.find((table) => table.name === "c")!.foreignKeys).toEqual([
      { name: "c_p", columns: ["y", "x"], refTable: "p", refColumns: ["y", "x"], onDelete: "no action", onUpdate: "no action" },
    ]);
    expect(read.tables.find((table) => table.name === "p")!.primaryKey).toEqual({ name: "pk_p", columns: ["y", "x"] });
  });

  it("names the column of an unknown declared type", async () => {
    await driver.query(`CREATE TABLE geo (id INTEGER, shape GEOMETRY)`);
    const error = await introspectSqlite(driver).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isRetortError(error, "RETORT_UNSUPPORTED")).toBe(true);
    expect((error as RetortError).message).toContain(`"geo"."shape"`);
    expect((error as RetortError).message).toContain(`"GEOMETRY"`);
    expect((error as RetortError).details).toMatchObject({ table: "geo", column: "shape" });
    expect(await introspectSqlite(driver, { exclude: ["geo"] })).toEqual(EMPTY_SCHEMA);
  });

  it("does not take a CHECK for a type rule unless it is exactly the DDL's", async () => {
    await driver.query(`CREATE TABLE x (
      v VARCHAR(5) CONSTRAINT "ck_x_v_varchar" CHECK (length("v") <= 6),
      e TEXT CONSTRAINT "ck_x_e_enum" CHECK ("e" IN ('a', 'b')),
      f TEXT CONSTRAINT "ck_x_f_enum" CHECK (f IN ('a', 'b')) /* enum "ab" */,
      g TEXT CONSTRAINT "ck_x_g_enum" CHECK ("g" IN ('a', 'b') OR "g" = 'c'),
      b BOOLEAN CONSTRAINT "ck_x_b_boolean" CHECK ("b" IN (0, 1)),
      j JSON_TEXT CONSTRAINT "ck_x_j_json" CHECK (json_valid("j"))
    )`);
    const read = await introspectSqlite(driver);
    expect(read.enums).toEqual([{ name: "ab", values: ["a", "b"] }]);
    const [x] = read.tables;
    expect(x!.columns.map((column) => [column.name, column.type])).toEqual([
      ["v", { kind: "varchar", length: 5 }],
      ["e", { kind: "enum", name: "ab" }], // unnamed: borrows the name of the enum with the same values
      ["f", { kind: "enum", name: "ab" }],
      ["g", { kind: "text" }],
      ["b", { kind: "boolean" }],
      ["j", { kind: "json" }],
    ]);
    expect(x!.checks).toEqual([
      { name: "ck_x_g_enum", expression: `"g" IN ('a', 'b') OR "g" = 'c'` },
      { name: "ck_x_v_varchar", expression: `length("v") <= 6` },
    ]);
  });

  it("names an enum without its comment after the table and column, and keeps clashing enums apart", async () => {
    await driver.query(`CREATE TABLE y (
      e TEXT CONSTRAINT "ck_y_e_enum" CHECK ("e" IN ('p', 'q')),
      m TEXT CONSTRAINT "ck_y_m_enum" CHECK ("m" IN ('a')) /* enum "mood" */
    )`);
    await driver.query(`CREATE TABLE z (m TEXT CONSTRAINT "ck_z_m_enum" CHECK ("m" IN ('a', 'b')) /* enum "mood" */)`);
    const read = await introspectSqlite(driver);
    expect(read.enums).toEqual([
      { name: "mood", values: ["a"] },
      { name: "mood_z_m", values: ["a", "b"] },
      { name: "y_e", values: ["p", "q"] },
    ]);
  });

  it("reads a migrated database as the fold of its migrations (direct ALTERs and rebuilds)", async () => {
    let schema: Schema = EMPTY_SCHEMA;
    const migrate = async (build: (op: MigrationOps) => void) => {
      const { op, ops } = createOpRecorder();
      build(op);
      for (const operation of ops) {
        await runSteps(driver, compileOperation(operation, "sqlite", schema));
        schema = applyOperations(schema, [operation]);
      }
    };
    await migrate((op) => {
      op.createEnum("role", ["owner", "member"]);
      op.createTable("guilds", { id: t.bigserial().primaryKey(), name: t.varchar(40) }, { comment: "guilds" });
      op.createTable("members", {
        id: t.integer().primaryKey(),
        guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
        nick: t.text().nullable().comment("shown"),
      });
      op.createIndex(null, "members", ["guild_id", "nick"], { unique: true, where: "nick IS NOT NULL" });
      op.createTable("notes", { body: t.text().comment("last column, with a comment") });
    });
    await migrate((op) => {
      op.addColumn("members", "role", enumColumn("role").default("member")); // direct ALTER TABLE ADD COLUMN
      op.addColumn("members", "score", t.numeric(8, 2).nullable()); // direct
      op.addColumn("members", "flags", t.jsonb().default({ a: 1 }));
    });
    await migrate((op) => {
      op.renameColumn("members", "nick", "nickname"); // direct, then a rebuild (none here: text)
      op.alterColumn("guilds", "name", { nullable: true }); // rebuild of a parent
      op.addEnumValue("role", "admin", { after: "owner" }); // rebuild of members
      op.addCheck("ck_members_score", "members", "score >= 0"); // rebuild
      op.renameTable("guilds", "servers"); // rename, then a rebuild (varchar CHECK renamed)
      // "notes" carries a column comment: ADD COLUMN would splice text after it, so these rebuild.
      op.addColumn("notes", "kind", enumColumn("role").nullable());
      op.addColumn("notes", "pinned", t.boolean().default(false));
    });
    const { rows } = await driver.query<{ sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'notes'");
    // The comment stays on its own column's line.
    expect(rows[0]!.sql).toContain(`"body" TEXT NOT NULL, -- last column, with a comment\n  "kind" TEXT CONSTRAINT "ck_notes_kind_enum"`);
    expect(await introspectSqlite(driver)).toStrictEqual(sorted(schema));
  });
});

describe("the CREATE statement reader", () => {
  it("tokenizes quotes, comments, blobs and numbers", () => {
    const tokens = tokenize(`"a""b" [c d] \`e\` 'f''g' X'0A' -1.5e3 -- line\n/* block */ x||y`);
    expect(tokens.map((token) => [token.kind, token.text])).toEqual([
      ["ident", `"a""b"`],
      ["ident", "[c d]"],
      ["ident", "`e`"],
      ["string", "'f''g'"],
      ["blob", "X'0A'"],
      ["punct", "-"],
      ["number", "1.5e3"],
      ["line-comment", "-- line"],
      ["block-comment", "/* block */"],
      ["word", "x"],
      ["punct", "||"],
      ["word", "y"],
    ]);
  });

  it("keeps comments with their column and the table", () => {
    const parsed = parseCreateTable(`CREATE TABLE "t" (
  -- table note
  "a" TEXT, /* after a */ -- about a
  -- ignored: on its own line after a column
  "b" TEXT /* in b */ -- about b
, "c" TEXT CHECK ("c" <> '--') /* enum "x" */)`);
    expect(parsed.comments).toEqual(["table note"]);
    expect(parsed.columns.map((column) => [column.name, column.lineComments, column.blockComments])).toEqual([
      ["a", ["about a"], ["after a"]],
      ["b", ["about b"], ["in b"]],
      ["c", [], [`enum "x"`]],
    ]);
    expect(parsed.columns[2]!.checks).toEqual([{ expression: `"c" <> '--'` }]);
  });

  it("reads CREATE INDEX elements and predicates", () => {
    expect(parseCreateIndex(`CREATE UNIQUE INDEX IF NOT EXISTS "i" ON "t" ("a" DESC, (lower("b")), c COLLATE NOCASE ASC) WHERE a > 0 AND b = 'x'`)).toEqual({
      unique: true,
      elements: [{ column: "a", expression: `"a"`, order: "desc" }, { expression: `lower("b")` }, { expression: "c COLLATE NOCASE", order: "asc" }],
      where: "a > 0 AND b = 'x'",
    });
  });
});
