import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kysely } from "kysely";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRetortError, RetortError } from "../../src/errors.js";
import type { Driver } from "../../src/dialects/driver.js";
import { kyselyDialectFor } from "../../src/dialects/kysely-bridge.js";
import { sqliteDdl } from "../../src/dialects/sqlite/ddl.js";
import { createSqliteDriver } from "../../src/dialects/sqlite/driver.js";
import { findTable, type ColumnSchema, type Schema, type TableSchema } from "../../src/schema/snapshot.js";

const col = (name: string, type: ColumnSchema["type"], extra: Partial<ColumnSchema> = {}): ColumnSchema => ({ name, type, nullable: true, ...extra });
const table = (name: string, extra: Partial<TableSchema>): TableSchema => ({ name, columns: [], uniques: [], indexes: [], foreignKeys: [], checks: [], ...extra });

/** Children listed before parents on purpose: createSchema must order them. */
const schema: Schema = {
  enums: [{ name: "member_role", values: ["owner", "admin", "member"] }],
  tables: [
    table("members", {
      columns: [
        col("guild_id", { kind: "uuid" }, { nullable: false }),
        col("user_id", { kind: "bigint" }, { nullable: false }),
        col("nickname", { kind: "varchar", length: 20 }, { nullable: false, comment: "shown in the member list" }),
        col("role", { kind: "enum", name: "member_role" }, { nullable: false, default: { kind: "literal", value: "member" } }),
        col("active", { kind: "boolean" }, { nullable: false, default: { kind: "literal", value: true } }),
        col("joined_at", { kind: "timestamptz" }, { nullable: false, default: { kind: "now" } }),
      ],
      primaryKey: { name: "pk_members", columns: ["guild_id", "user_id"] },
      uniques: [{ name: "uq_members_guild_id_nickname", columns: ["guild_id", "nickname"] }],
      indexes: [{ name: "ix_members_one_owner", elements: [{ column: "guild_id" }], unique: true, where: "role = 'owner'" }],
      foreignKeys: [{ name: "fk_members_guild_id_guilds", columns: ["guild_id"], refTable: "guilds", refColumns: ["id"], onDelete: "cascade", onUpdate: "no action" }],
      checks: [{ name: "ck_members_nickname_not_blank", expression: "length(trim(nickname)) > 0" }],
    }),
    table("invites", {
      columns: [col("code", { kind: "text" }, { nullable: false }), col("guild_id", { kind: "uuid" }, { nullable: false })],
      primaryKey: { name: "pk_invites", columns: ["code"] },
      foreignKeys: [{ name: "fk_invites_guild_id_guilds", columns: ["guild_id"], refTable: "guilds", refColumns: ["id"], onDelete: "restrict", onUpdate: "cascade" }],
    }),
    table("guilds", {
      comment: "Discord guilds",
      columns: [
        col("id", { kind: "uuid" }, { nullable: false, default: { kind: "random-uuid" } }),
        col("name", { kind: "varchar", length: 40 }, { nullable: false }),
        col("settings", { kind: "jsonb" }, { nullable: false, default: { kind: "literal", value: { theme: "dark", limits: [1, 2] } } }),
      ],
      primaryKey: { name: "pk_guilds", columns: ["id"] },
      indexes: [{ name: "uq_guilds_lower_name", elements: [{ expression: "lower(name)" }], unique: true }],
    }),
    table("samples", {
      columns: [
        col("id", { kind: "integer" }, { nullable: false, identity: "always" }),
        col("uuid_col", { kind: "uuid" }),
        col("text_col", { kind: "text" }),
        col("varchar_col", { kind: "varchar", length: 10 }),
        col("small_col", { kind: "smallint" }),
        col("int_col", { kind: "integer" }),
        col("big_col", { kind: "bigint" }),
        col("num_col", { kind: "numeric", precision: 20, scale: 4 }),
        col("money_col", { kind: "numeric", precision: 10, scale: 2 }),
        col("free_num_col", { kind: "numeric" }),
        col("real_col", { kind: "real" }),
        col("double_col", { kind: "double" }),
        col("bool_col", { kind: "boolean" }),
        col("tstz_col", { kind: "timestamptz" }),
        col("ts_col", { kind: "timestamp" }),
        col("date_col", { kind: "date" }),
        col("time_col", { kind: "time" }),
        col("jsonb_col", { kind: "jsonb" }),
        col("json_col", { kind: "json" }),
        col("bytes_col", { kind: "bytea" }),
        col("role_col", { kind: "enum", name: "member_role" }),
        col("tags_col", { kind: "array", element: { kind: "text" } }),
      ],
      primaryKey: { name: "pk_samples", columns: ["id"] },
      indexes: [
        { name: "ix_samples_jsonb_col", elements: [{ column: "jsonb_col" }], unique: false, using: "gin" },
        { name: "ix_samples_date_col_int_col", elements: [{ column: "date_col", order: "desc" }, { column: "int_col" }], unique: false },
      ],
    }),
  ],
};

const sampleColumns = findTable(schema, "samples")!.columns.map((column) => column.name);

async function createDriver(filename = ":memory:"): Promise<Driver> {
  const driver = createSqliteDriver(filename, { schema });
  for (const statement of sqliteDdl.createSchema(schema)) await driver.query(statement);
  return driver;
}

/** INSERT … RETURNING * with every value passed through `encode`. */
async function insert(driver: Driver, tableName: string, row: Record<string, unknown>) {
  const target = findTable(schema, tableName)!;
  const names = Object.keys(row);
  const params = names.map((name) => driver.encode(target.columns.find((column) => column.name === name)!.type, row[name]));
  const sql = `INSERT INTO "${tableName}" (${names.map((n) => `"${n}"`).join(", ")}) VALUES (${names.map(() => "?").join(", ")}) RETURNING *`;
  return (await driver.query(sql, params)).rows[0]!;
}

/** The RetortError a statement fails with (after translateError). */
async function failure(driver: Driver, sql: string, params: readonly unknown[] = []): Promise<RetortError> {
  try {
    await driver.query(sql, params);
  } catch (error) {
    const translated = driver.translateError(error);
    if (translated instanceof RetortError) return translated;
    throw error;
  }
  throw new Error(`expected failure: ${sql}`);
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const G1 = "6f1c3a52-9d7e-4b1a-8c3e-2a4b5c6d7e8f";

describe("SQLite DDL", () => {
  const statements = sqliteDdl.createSchema(schema);
  const createOf = (name: string) => statements.find((s) => s.startsWith(`CREATE TABLE "${name}"`))!;

  it("creates parents before children and indexes after their table", () => {
    const order = statements.map((s) => /^CREATE (?:UNIQUE )?(?:TABLE|INDEX) "(\w+)"/.exec(s)![1]);
    expect(order.indexOf("guilds")).toBeLessThan(order.indexOf("members"));
    expect(order.indexOf("guilds")).toBeLessThan(order.indexOf("invites"));
    expect(order.indexOf("ix_members_one_owner")).toBeGreaterThan(order.indexOf("members"));
  });

  it("renders types, checks, keys and defaults", () => {
    const samples = createOf("samples");
    expect(samples).toContain(`"id" INTEGER CONSTRAINT "pk_samples" PRIMARY KEY,`);
    expect(samples).not.toContain("PRIMARY KEY (");
    expect(samples).toContain(`"varchar_col" VARCHAR(10) CONSTRAINT "ck_samples_varchar_col_varchar" CHECK (length("varchar_col") <= 10)`);
    expect(samples).toContain(`"num_col" NUMERIC_TEXT(20,4),`);
    expect(samples).toContain(`"free_num_col" NUMERIC_TEXT,`);
    expect(samples).toContain(`"bool_col" BOOLEAN CONSTRAINT "ck_samples_bool_col_boolean" CHECK ("bool_col" IN (0, 1))`);
    expect(samples).toContain(`"jsonb_col" JSONB_TEXT CONSTRAINT "ck_samples_jsonb_col_json" CHECK (json_valid("jsonb_col"))`);
    expect(samples).toContain(`"tags_col" TEXT_ARRAY CONSTRAINT "ck_samples_tags_col_json" CHECK (json_valid("tags_col"))`);
    expect(samples).toContain(`"role_col" TEXT CONSTRAINT "ck_samples_role_col_enum" CHECK ("role_col" IN ('owner', 'admin', 'member'))`);
    expect(samples).toContain(`"bytes_col" BLOB,`);
    expect(samples).toContain(`"tstz_col" TIMESTAMPTZ,`);

    const members = createOf("members");
    expect(members).toContain(`CONSTRAINT "pk_members" PRIMARY KEY ("guild_id", "user_id")`);
    expect(members).toContain(`CONSTRAINT "uq_members_guild_id_nickname" UNIQUE ("guild_id", "nickname")`);
    expect(members).toContain(`CONSTRAINT "ck_members_nickname_not_blank" CHECK (length(trim(nickname)) > 0)`);
    expect(members).toContain(`CONSTRAINT "fk_members_guild_id_guilds" FOREIGN KEY ("guild_id") REFERENCES "guilds" ("id") ON DELETE CASCADE\n)`);
    expect(members).toContain(`"joined_at" TIMESTAMPTZ NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`);
    expect(members).toContain(`"active" BOOLEAN NOT NULL DEFAULT 1 CONSTRAINT`);
    expect(members).toContain(`"role" TEXT NOT NULL DEFAULT 'member' CONSTRAINT`);
    expect(members).toContain(`CHECK (length("nickname") <= 20), -- shown in the member list\n`);
    expect(createOf("invites")).toContain(`REFERENCES "guilds" ("id") ON DELETE RESTRICT ON UPDATE CASCADE`);

    const guilds = createOf("guilds");
    expect(guilds).toMatch(/^CREATE TABLE "guilds" \(\n  -- Discord guilds\n  "id" UUID NOT NULL DEFAULT \(lower\(hex\(randomblob/);
    expect(guilds).toContain(`"settings" JSONB_TEXT NOT NULL DEFAULT '{"theme":"dark","limits":[1,2]}'`);
  });

  it("renders indexes: expressions, order, partial, and GIN as a plain index", () => {
    expect(statements).toContain(`CREATE UNIQUE INDEX "uq_guilds_lower_name" ON "guilds" ((lower(name)))`);
    expect(statements).toContain(`CREATE UNIQUE INDEX "ix_members_one_owner" ON "members" ("guild_id") WHERE role = 'owner'`);
    expect(statements).toContain(`CREATE INDEX "ix_samples_jsonb_col" ON "samples" ("jsonb_col")`);
    expect(statements).toContain(`CREATE INDEX "ix_samples_date_col_int_col" ON "samples" ("date_col" DESC, "int_col")`);
  });

  it("renders literal defaults in storage form", () => {
    const t = table("t", {});
    const def = (type: ColumnSchema["type"], value: Parameters<typeof JSON.stringify>[0]) =>
      sqliteDdl.columnDefinition(col("c", type, { default: { kind: "literal", value } }), t, schema);
    expect(def({ kind: "bigint" }, "9007199254740993")).toBe(`"c" BIGINT DEFAULT 9007199254740993`);
    expect(def({ kind: "numeric", precision: 10, scale: 2 }, "1.5")).toBe(`"c" NUMERIC_TEXT(10,2) DEFAULT '1.50'`);
    expect(def({ kind: "timestamptz" }, "2024-03-10T01:59:59.123Z")).toBe(`"c" TIMESTAMPTZ DEFAULT '2024-03-10T01:59:59.123Z'`);
    expect(def({ kind: "bytea" }, "\\x00ff")).toBe(`"c" BLOB DEFAULT X'00ff'`);
    expect(def({ kind: "array", element: { kind: "text" } }, ["a", "it's"])).toContain(`DEFAULT '["a","it''s"]'`);
    expect(def({ kind: "boolean" }, false)).toContain("DEFAULT 0 CONSTRAINT");
    expect(sqliteDdl.columnDefinition(col("c", { kind: "text" }, { default: { kind: "sql", sql: "'x' || 'y'" } }), t, schema)).toBe(`"c" TEXT DEFAULT ('x' || 'y')`);
  });

  it("refuses identity columns that cannot be the rowid", () => {
    const bad = table("tickets", {
      columns: [col("guild_id", { kind: "uuid" }, { nullable: false }), col("number", { kind: "integer" }, { nullable: false, identity: "by-default" })],
      primaryKey: { name: "pk_tickets", columns: ["guild_id", "number"] },
    });
    let error: unknown;
    try {
      sqliteDdl.createTable(bad, schema);
    } catch (e) {
      error = e;
    }
    expect(isRetortError(error, "RETORT_UNSUPPORTED")).toBe(true);
    expect((error as RetortError).message).toContain(`"tickets"."number"`);
    expect((error as RetortError).hint).toContain("only primary-key column");
  });

  it("drops children before parents", () => {
    const drops = sqliteDdl.dropSchema(schema);
    expect(drops.indexOf(`DROP TABLE IF EXISTS "members"`)).toBeLessThan(drops.indexOf(`DROP TABLE IF EXISTS "guilds"`));
    expect(drops).toContain(`DROP INDEX IF EXISTS "uq_guilds_lower_name"`);
  });
});

describe("SQLite driver", () => {
  let driver: Driver;
  beforeEach(async () => {
    driver = await createDriver();
  });
  afterEach(async () => {
    await driver.close();
  });

  describe("values", () => {
    const edgeRows: Array<Record<string, unknown>> = [
      {
        uuid_col: G1,
        text_col: "",
        varchar_col: "héllo 👋",
        small_col: -32768,
        int_col: 2147483647,
        big_col: 2n ** 53n + 1n,
        num_col: "-12345678901234.5678",
        money_col: "1.50",
        free_num_col: "0.000",
        real_col: 1.5,
        double_col: 0.1 + 0.2,
        bool_col: true,
        tstz_col: new Date("2024-03-10T01:59:59.123Z"),
        ts_col: new Date("1970-01-01T00:00:00.000Z"),
        date_col: "1999-12-31",
        time_col: "23:59:59.5",
        jsonb_col: { a: { b: [1, "two", null, true, { c: 3.5 }] }, "é": "👋" },
        json_col: [1, { x: "y" }, []],
        bytes_col: new Uint8Array([0x00, 0xff, 0x10, 0x00]),
        role_col: "admin",
        tags_col: ["", 'say "hi"', "it's", "👋"],
      },
      {
        text_col: "héllo 👋",
        big_col: -(2n ** 63n),
        money_col: "-12.30",
        free_num_col: "123456789012345678901234567890.123456789",
        bool_col: false,
        jsonb_col: [1, 2, 3],
        json_col: "123",
        bytes_col: new Uint8Array([]),
        tags_col: [],
      },
      { jsonb_col: "123", json_col: 123, bytes_col: new Uint8Array([0xff]), big_col: 2n ** 63n - 1n },
      { jsonb_col: null },
    ];

    const expected = (row: Record<string, unknown>) => ({ ...Object.fromEntries(sampleColumns.map((name) => [name, null])), ...row });

    it("round-trips every type through encode and a query", async () => {
      for (const row of edgeRows) {
        const returned = await insert(driver, "samples", row);
        const { rows } = await driver.query(`SELECT * FROM "samples" WHERE "id" = ?`, [returned.id]);
        expect(rows[0]).toEqual({ ...expected(row), id: returned.id });
        expect(returned).toEqual(rows[0]);
        if (row.bytes_col) expect(Object.getPrototypeOf(rows[0]!.bytes_col)).toBe(Uint8Array.prototype);
        expect(typeof rows[0]!.id).toBe("number");
      }
    });

    it("decodes aliased columns by their origin", async () => {
      const returned = await insert(driver, "samples", edgeRows[0]!);
      const { rows } = await driver.query(
        `SELECT "big_col" AS "big", "bool_col" AS "flag", "tstz_col" AS "at", "jsonb_col" AS "doc", "bytes_col" AS "bytes", "num_col" AS "amount", "tags_col" AS "tags", "int_col" AS "n"
         FROM "samples" AS "s" WHERE "s"."id" = ?`,
        [returned.id],
      );
      const row = edgeRows[0]!;
      expect(rows[0]).toEqual({
        big: row.big_col,
        flag: true,
        at: row.tstz_col,
        doc: row.jsonb_col,
        bytes: row.bytes_col,
        amount: row.num_col,
        tags: row.tags_col,
        n: row.int_col,
      });
      const sub = await driver.query(`SELECT "x"."y" AS "z" FROM (SELECT "bool_col" AS "y" FROM "samples") AS "x"`);
      expect(sub.rows).toEqual([{ z: true }]);
    });

    it("canonicalises numerics like Postgres prints them", () => {
      const money = { kind: "numeric", precision: 10, scale: 2 } as const;
      expect(driver.encode(money, "1.5")).toBe("1.50");
      expect(driver.encode(money, "+007.125")).toBe("7.13");
      expect(driver.encode(money, "-0.001")).toBe("0.00");
      expect(driver.encode(money, "-2.345")).toBe("-2.35");
      expect(driver.encode(money, 99999999.994)).toBe("99999999.99");
      expect(() => driver.encode(money, 99999999.995)).toThrow(RetortError); // rounds up past the precision
      expect(driver.encode(money, ".5")).toBe("0.50");
      expect(driver.encode({ kind: "numeric" }, "1.50")).toBe("1.50");
      expect(driver.encode({ kind: "numeric" }, "1e3")).toBe("1000");
      expect(driver.encode({ kind: "numeric" }, "1.50e1")).toBe("15.0");
      expect(driver.encode({ kind: "numeric" }, "-0")).toBe("0");
      expect(driver.encode({ kind: "numeric" }, "NaN")).toBe("NaN");
      expect(driver.encode({ kind: "numeric", precision: 5 }, "12.5")).toBe("13");
      expect(() => driver.encode(money, "12345678901")).toThrow(/numeric\(10,2\)/);
      expect(() => driver.encode(money, "12abc")).toThrow(RetortError);
    });

    it("normalises other inputs the way Postgres would", () => {
      expect(driver.encode({ kind: "uuid" }, G1.toUpperCase())).toBe(G1);
      expect(driver.encode({ kind: "time" }, "7:05")).toBe("07:05:00");
      expect(driver.encode({ kind: "time" }, "23:59:59.500")).toBe("23:59:59.5");
      expect(driver.encode({ kind: "timestamptz" }, "2024-03-10 01:59:59")).toBe("2024-03-10T01:59:59.000Z");
      expect(() => driver.encode({ kind: "integer" }, 2 ** 31)).toThrow(RetortError);
      expect(() => driver.encode({ kind: "bigint" }, 2n ** 63n)).toThrow(RetortError);
      expect(driver.encode({ kind: "bytea" }, new Uint8Array([1]))).toBeInstanceOf(Buffer);
    });

    it("binds raw Kysely values without column knowledge and decodes them", async () => {
      const db = new Kysely<any>({ dialect: kyselyDialectFor(driver) });
      const at = new Date("2024-03-10T01:59:59.123Z");
      await db
        .insertInto("samples")
        .values({ bool_col: true, tstz_col: at, jsonb_col: { a: [1] }, tags_col: ["x"], bytes_col: new Uint8Array([0, 255]), money_col: "1.5", big_col: 5n })
        .execute();
      const row = await db.selectFrom("samples").select(["bool_col as flag", "tstz_col", "jsonb_col", "tags_col", "bytes_col", "money_col", "big_col"]).executeTakeFirstOrThrow();
      expect(row).toEqual({ flag: true, tstz_col: at, jsonb_col: { a: [1] }, tags_col: ["x"], bytes_col: new Uint8Array([0, 255]), money_col: "1.50", big_col: 5n });
      const found = await db.selectFrom("samples").select("id").where("bool_col", "=", true).where("tstz_col", "<", new Date("2025-01-01")).execute();
      expect(found).toHaveLength(1);
      const count = await db.selectFrom("samples").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
      expect(count).toEqual({ n: 1 });
    });

    it("fills defaults: now, random v4 UUIDs, literals", async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 300; i++) {
        const guild = await insert(driver, "guilds", { name: `guild ${i}` });
        expect(guild.id).toMatch(UUID_V4);
        ids.add(guild.id as string);
        if (i === 0) expect(guild.settings).toEqual({ theme: "dark", limits: [1, 2] });
      }
      expect(ids.size).toBe(300);
      const before = Date.now();
      const member = await insert(driver, "members", { guild_id: [...ids][0], user_id: 1n, nickname: "ann" });
      expect(member.role).toBe("member");
      expect(member.active).toBe(true);
      expect(member.joined_at).toBeInstanceOf(Date);
      expect(Math.abs((member.joined_at as Date).getTime() - before)).toBeLessThan(5000);
    });

    it("makes LIKE case-sensitive", async () => {
      await insert(driver, "guilds", { name: "Alpha" });
      expect((await driver.query(`SELECT 'a' LIKE 'A' AS "m"`)).rows).toEqual([{ m: 0 }]);
      expect((await driver.query(`SELECT "name" FROM "guilds" WHERE "name" LIKE 'alpha%'`)).rows).toEqual([]);
      expect((await driver.query(`SELECT "name" FROM "guilds" WHERE "name" LIKE 'Al%'`)).rows).toEqual([{ name: "Alpha" }]);
    });

    it("reports rowCount for writes and runs multi-statement scripts", async () => {
      await driver.query(`INSERT INTO "guilds" ("name") VALUES ('a'); INSERT INTO "guilds" ("name") VALUES ('b')`);
      expect((await driver.query(`UPDATE "guilds" SET "name" = "name" || '!'`)).rowCount).toBe(2);
      expect((await driver.query(`SELECT 1`)).rowCount).toBe(1);
      expect((await driver.query(`CREATE TABLE "tmp" ("x" INTEGER)`)).rowCount).toBe(0);
    });
  });

  describe("constraint violations", () => {
    beforeEach(async () => {
      await insert(driver, "guilds", { id: G1, name: "Alpha" });
      await insert(driver, "members", { guild_id: G1, user_id: 1n, nickname: "ann", role: "owner" });
    });
    const member = (userId: number, nickname: string, role = "member") => [
      `INSERT INTO "members" ("guild_id", "user_id", "nickname", "role") VALUES (?, ?, ?, ?)`,
      [G1, userId, nickname, role],
    ] as const;

    it("unique constraint", async () => {
      const error = await failure(driver, ...member(2, "ann"));
      expect(error.code).toBe("RETORT_UNIQUE_VIOLATION");
      expect(error.message).toBe(`Unique constraint "uq_members_guild_id_nickname" violated on table "members" (guild_id, nickname)`);
      expect(error.details).toEqual({ table: "members", constraint: "uq_members_guild_id_nickname", columns: ["guild_id", "nickname"] });
      expect(error.hint).toBeTruthy();
      expect(error.cause).toBeInstanceOf(Error);
    });

    it("primary key", async () => {
      const error = await failure(driver, ...member(1, "bob"));
      expect(error.code).toBe("RETORT_UNIQUE_VIOLATION");
      expect(error.details).toEqual({ table: "members", constraint: "pk_members", columns: ["guild_id", "user_id"] });
    });

    it("partial unique index", async () => {
      const error = await failure(driver, ...member(2, "bob", "owner"));
      expect(error.details).toEqual({ table: "members", constraint: "ix_members_one_owner", columns: ["guild_id"] });
      await driver.query(...member(3, "cat", "admin")); // outside the predicate: allowed
    });

    it("unique expression index", async () => {
      const error = await failure(driver, `INSERT INTO "guilds" ("name") VALUES (?)`, ["ALPHA"]);
      expect(error.code).toBe("RETORT_UNIQUE_VIOLATION");
      expect(error.details).toEqual({ table: "guilds", constraint: "uq_guilds_lower_name", columns: ["lower(name)"] });
      expect(error.message).not.toContain("ALPHA");
    });

    it("foreign key, on insert and on delete", async () => {
      const missing = "00000000-0000-4000-8000-000000000000";
      const error = await failure(driver, `INSERT INTO "members" ("guild_id", "user_id", "nickname") VALUES (?, 5, 'eve')`, [missing]);
      expect(error.code).toBe("RETORT_FOREIGN_KEY_VIOLATION");
      expect(error.message).toBe(`Foreign key constraint "fk_members_guild_id_guilds" violated on table "members"`);
      expect(error.details).toEqual({ table: "members", constraint: "fk_members_guild_id_guilds" });
      expect(error.hint).toContain(`"guilds"`);

      await driver.query(`INSERT INTO "invites" ("code", "guild_id") VALUES ('join-us', ?)`, [G1]);
      const blocked = await failure(driver, `DELETE FROM "guilds" WHERE "id" = ?`, [G1]);
      expect(blocked.code).toBe("RETORT_FOREIGN_KEY_VIOLATION");
      expect(blocked.details).toEqual({ table: "invites", constraint: "fk_invites_guild_id_guilds" });
      expect(blocked.hint).toContain("cascade");
    });

    it("not null", async () => {
      const error = await failure(driver, `INSERT INTO "guilds" ("name") VALUES (NULL)`);
      expect(error.code).toBe("RETORT_NOT_NULL_VIOLATION");
      expect(error.details).toEqual({ table: "guilds", column: "name" });
      expect(error.message).toContain(`"name" of table "guilds"`);
    });

    it("named check, enum, boolean and varchar length", async () => {
      const blank = await failure(driver, ...member(2, "   "));
      expect(blank.code).toBe("RETORT_CHECK_VIOLATION");
      expect(blank.message).toBe(`Check constraint "ck_members_nickname_not_blank" violated on table "members"`);
      expect(blank.details).toEqual({ table: "members", constraint: "ck_members_nickname_not_blank" });

      const role = await failure(driver, ...member(2, "bob", "boss"));
      expect(role.details).toEqual({ table: "members", constraint: "ck_members_role_enum", column: "role" });
      expect(role.message).toContain(`'owner', 'admin', 'member'`);
      expect(role.message).not.toContain("boss");

      const flag = await failure(driver, `UPDATE "members" SET "active" = 2`);
      expect(flag.details).toEqual({ table: "members", constraint: "ck_members_active_boolean", column: "active" });

      await driver.query(...member(2, "é".repeat(20))); // characters, not bytes
      const long = await failure(driver, ...member(3, "x".repeat(21)));
      expect(long.code).toBe("RETORT_CHECK_VIOLATION");
      expect(long.details).toEqual({ table: "members", constraint: "ck_members_nickname_varchar", column: "nickname" });
      expect(long.message).toContain("at most 20 characters");

      const json = await failure(driver, `INSERT INTO "samples" ("jsonb_col") VALUES ('{oops')`);
      expect(json.details).toEqual({ table: "samples", constraint: "ck_samples_jsonb_col_json", column: "jsonb_col" });
    });

    it("translates through the Kysely bridge and leaves other errors alone", async () => {
      const db = new Kysely<any>({ dialect: kyselyDialectFor(driver) });
      await expect(db.insertInto("guilds").values({ name: "alpha" }).execute()).rejects.toMatchObject({ code: "RETORT_UNIQUE_VIOLATION" });
      const syntax = new Error("near x: syntax error");
      expect(driver.translateError(syntax)).toBe(syntax);
    });

    it("cascades deletes to children", async () => {
      await driver.query(...member(2, "bob"));
      await driver.query(`DELETE FROM "guilds" WHERE "id" = ?`, [G1]);
      expect((await driver.query(`SELECT count(*) AS "n" FROM "members"`)).rows).toEqual([{ n: 0 }]);
    });
  });

  describe("connections and transactions", () => {
    it("nests savepoints through Kysely; an inner rollback keeps outer work", async () => {
      const db = new Kysely<any>({ dialect: kyselyDialectFor(driver) });
      const trx = await db.startTransaction().execute();
      await trx.insertInto("guilds").values({ name: "outer" }).execute();
      const outerSp = await trx.savepoint("sp_outer").execute();
      await outerSp.insertInto("guilds").values({ name: "kept" }).execute();
      const innerSp = await outerSp.savepoint("sp_inner").execute();
      await innerSp.insertInto("guilds").values({ name: "dropped" }).execute();
      const afterRollback = await innerSp.rollbackToSavepoint("sp_inner").execute();
      const released = await afterRollback.releaseSavepoint("sp_outer").execute();
      await released.commit().execute();
      const names = (await db.selectFrom("guilds").select("name").orderBy("name").execute()).map((r) => r.name);
      expect(names).toEqual(["kept", "outer"]);

      await expect(
        db.transaction().execute(async (tx) => {
          await tx.insertInto("guilds").values({ name: "rolled back" }).execute();
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await db.selectFrom("guilds").select("name").where("name", "=", "rolled back").execute()).toEqual([]);
    });

    it("makes other queries wait while a connection is held", async () => {
      const held = await driver.acquire();
      await held.query("BEGIN");
      await held.query(`INSERT INTO "guilds" ("name") VALUES ('uncommitted')`);
      let settled = false;
      const outside = driver.query(`SELECT count(*) AS "n" FROM "guilds"`).finally(() => (settled = true));
      const db = new Kysely<any>({ dialect: kyselyDialectFor(driver) });
      const viaKysely = db.selectFrom("guilds").select("name").execute();
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(settled).toBe(false);
      await held.query(`INSERT INTO "guilds" ("name") VALUES ('also uncommitted')`);
      await held.query("ROLLBACK");
      held.release();
      expect((await outside).rows).toEqual([{ n: 0 }]);
      expect(await viaKysely).toEqual([]);
      await expect(held.query("SELECT 1")).rejects.toMatchObject({ code: "RETORT_CLOSED" });
    });

    it("bulk-inserts 10k rows, alone or inside a transaction", async () => {
      await insert(driver, "guilds", { id: G1, name: "Alpha" });
      const target = findTable(schema, "members")!;
      const columns = target.columns.filter((c) => ["guild_id", "user_id", "nickname", "active"].includes(c.name));
      const rows = Array.from({ length: 10_000 }, (_, i) => columns.map((c) => driver.encode(c.type, { guild_id: G1, user_id: BigInt(i), nickname: `m${i}`, active: i % 2 === 0 }[c.name])));
      expect(await driver.bulkInsert(driver, target, columns, rows)).toBe(10_000);
      const stats = await driver.query(`SELECT count(*) AS "n", sum("active") AS "on" FROM "members"`);
      expect(stats.rows).toEqual([{ n: 10_000, on: 5_000 }]);

      // Inside a held transaction it uses a savepoint, so the caller's rollback still undoes it.
      const held = await driver.acquire();
      await held.query("BEGIN");
      const more = rows.map((row) => [row[0], BigInt(20_000) + (row[1] as bigint), `n${row[1]}`, row[3]]);
      expect(await driver.bulkInsert(held, target, columns, more)).toBe(10_000);
      expect((await held.query(`SELECT count(*) AS "n" FROM "members"`)).rows).toEqual([{ n: 20_000 }]);
      await held.query("ROLLBACK");
      held.release();

      // Wrapped connections and drivers (instrumentation uses Object.create) take the same paths.
      const wrappedDriver = Object.create(driver) as Driver;
      const wrappedHeld = await wrappedDriver.acquire();
      await wrappedHeld.query("BEGIN");
      expect(await wrappedDriver.bulkInsert(Object.create(wrappedHeld), target, columns, more.slice(0, 100))).toBe(100);
      const plainWrapper = { query: wrappedHeld.query.bind(wrappedHeld) };
      expect(await wrappedDriver.bulkInsert(plainWrapper, target, columns, more.slice(100, 150))).toBe(50);
      expect((await wrappedHeld.query(`SELECT count(*) AS "n" FROM "members"`)).rows).toEqual([{ n: 10_150 }]);
      await wrappedHeld.query("ROLLBACK");
      wrappedHeld.release();

      // A failing row undoes the whole load.
      const bad = [...more.slice(0, 10), [G1, 1n, "fresh", 1]];
      const duplicate = await driver.bulkInsert(driver, target, columns, bad).catch((error) => driver.translateError(error));
      expect(duplicate).toMatchObject({ code: "RETORT_UNIQUE_VIOLATION", details: { constraint: "pk_members" } });
      const orphan = [["00000000-0000-4000-8000-000000000000", 99_999n, "orphan", 1]];
      const missingParent = await driver.bulkInsert(driver, target, columns, orphan).catch((error) => driver.translateError(error));
      expect(missingParent).toMatchObject({ code: "RETORT_FOREIGN_KEY_VIOLATION", details: { table: "members", constraint: "fk_members_guild_id_guilds" } });
      expect((await driver.query(`SELECT count(*) AS "n" FROM "members"`)).rows).toEqual([{ n: 10_000 }]);
    });
  });

  it("drops everything it created", async () => {
    await insert(driver, "guilds", { id: G1, name: "Alpha" });
    await insert(driver, "members", { guild_id: G1, user_id: 1n, nickname: "ann" });
    for (const statement of sqliteDdl.dropSchema(schema)) await driver.query(statement);
    expect((await driver.query(`SELECT "name" FROM "sqlite_master" WHERE "name" NOT LIKE 'sqlite_%'`)).rows).toEqual([]);
  });

  it("keeps table comments in sqlite_master", async () => {
    const { rows } = await driver.query(`SELECT "sql" FROM "sqlite_master" WHERE "name" = 'guilds'`);
    expect(rows[0]!.sql).toContain("-- Discord guilds");
  });
});

describe("SQLite files", () => {
  const dir = mkdtempSync(join(tmpdir(), "retort-sqlite-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the schema in a file, in WAL mode, and keeps data across connections", async () => {
    const file = join(dir, "app.db");
    const first = await createDriver(file);
    expect((await first.query("PRAGMA journal_mode")).rows).toEqual([{ journal_mode: "wal" }]);
    expect((await first.query("PRAGMA foreign_keys")).rows).toEqual([{ foreign_keys: 1 }]);
    await insert(first, "samples", { big_col: -(2n ** 63n), tstz_col: new Date("2024-03-10T01:59:59.123Z"), bytes_col: new Uint8Array([0, 255]) });
    await first.close();

    const second = createSqliteDriver(file, { schema });
    const { rows } = await second.query(`SELECT "big_col", "tstz_col", "bytes_col" FROM "samples"`);
    expect(rows).toEqual([{ big_col: -(2n ** 63n), tstz_col: new Date("2024-03-10T01:59:59.123Z"), bytes_col: new Uint8Array([0, 255]) }]);
    await second.close();
    await expect(second.query("SELECT 1")).rejects.toMatchObject({ code: "RETORT_CLOSED" });
  });

  it("fails clearly when the file cannot be opened", () => {
    const missingDir = join(dir, "no-such-dir", "app.db");
    expect(() => createSqliteDriver(missingDir, { schema })).toThrow(expect.objectContaining({ code: "RETORT_CONNECTION_FAILED", message: expect.stringContaining(missingDir) }));
    const notDb = join(dir, "notes.txt");
    writeFileSync(notDb, "these are not the bytes of a SQLite database, just some text that is long enough".repeat(10));
    expect(() => createSqliteDriver(notDb, { schema })).toThrow(expect.objectContaining({ code: "RETORT_CONNECTION_FAILED", hint: expect.stringContaining("SQLite database") }));
  });
});
