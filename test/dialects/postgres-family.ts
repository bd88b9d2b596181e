/**
 * What the Postgres server driver and the PGlite driver must both do, registered by each test
 * file against its own backend: the schema from the hand-built snapshot below, a round trip of
 * every column type, constraint violations, transactions through Kysely, COPY bulk loads.
 */
import { Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Driver } from "../../src/dialects/driver.js";
import { kyselyDialectFor } from "../../src/dialects/kysely-bridge.js";
import { postgresDdl } from "../../src/dialects/postgres/ddl.js";
import { translatePostgresError } from "../../src/dialects/postgres/errors.js";
import { RetortError } from "../../src/errors.js";
import type { ColumnSchema, ColumnType, Schema, TableSchema } from "../../src/schema/snapshot.js";

const col = (name: string, type: ColumnType, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({
  name,
  type,
  nullable: true,
  ...extra,
});

/** Tables are listed child first on purpose: foreign keys must not depend on the order. */
export const fixtureSchema: Schema = {
  enums: [{ name: "member_role", values: ["owner", "admin", "member"] }],
  tables: [
    {
      name: "members",
      columns: [
        col("guild_id", { kind: "uuid" }, { nullable: false }),
        col("user_id", { kind: "bigint" }, { nullable: false }),
        col("nickname", { kind: "text" }),
        col("role", { kind: "enum", name: "member_role" }, { nullable: false, default: { kind: "literal", value: "member" } }),
        col("age", { kind: "smallint" }),
        col("tags", { kind: "array", element: { kind: "text" } }, { nullable: false, default: { kind: "literal", value: [] } }),
      ],
      primaryKey: { name: "pk_members", columns: ["guild_id", "user_id"] },
      uniques: [{ name: "uq_members_guild_id_nickname", columns: ["guild_id", "nickname"] }],
      indexes: [
        { name: "uq_members_guild_id_owner", elements: [{ column: "guild_id" }], unique: true, where: "role = 'owner'" },
        { name: "ix_members_lower_nickname", elements: [{ expression: "lower(nickname)" }, { column: "user_id", order: "desc" }], unique: false },
      ],
      foreignKeys: [
        {
          name: "fk_members_guild_id_guilds",
          columns: ["guild_id"],
          refTable: "guilds",
          refColumns: ["id"],
          onDelete: "cascade",
          onUpdate: "no action",
        },
      ],
      checks: [{ name: "ck_members_age", expression: "age >= 13" }],
    },
    {
      name: "bans",
      columns: [
        col("id", { kind: "bigint" }, { nullable: false, identity: "by-default" }),
        col("guild_id", { kind: "uuid" }, { nullable: false }),
        col("reason", { kind: "text" }, { nullable: false }),
      ],
      primaryKey: { name: "pk_bans", columns: ["id"] },
      uniques: [],
      indexes: [],
      foreignKeys: [
        { name: "fk_bans_guild_id_guilds", columns: ["guild_id"], refTable: "guilds", refColumns: ["id"], onDelete: "no action", onUpdate: "no action" },
      ],
      checks: [],
    },
    {
      name: "guilds",
      comment: "Discord servers",
      columns: [
        col("id", { kind: "uuid" }, { nullable: false, default: { kind: "random-uuid" } }),
        col("name", { kind: "text" }, { nullable: false, comment: "Display name, as shown in the client" }),
        col("slug", { kind: "varchar", length: 40 }, { nullable: false }),
        col("settings", { kind: "jsonb" }, { nullable: false, default: { kind: "literal", value: { theme: "dark", limits: [1, 2] } } }),
        col("created_at", { kind: "timestamptz" }, { nullable: false, default: { kind: "now" } }),
        col("expires_at", { kind: "timestamptz" }, { default: { kind: "sql", sql: "now() + interval '30 days'" } }),
      ],
      primaryKey: { name: "pk_guilds", columns: ["id"] },
      uniques: [{ name: "uq_guilds_slug", columns: ["slug"] }],
      indexes: [],
      foreignKeys: [],
      checks: [],
    },
    {
      name: "samples",
      columns: [
        col("id", { kind: "integer" }, { nullable: false, identity: "always" }),
        col("c_uuid", { kind: "uuid" }),
        col("c_text", { kind: "text" }),
        col("c_varchar", { kind: "varchar", length: 10 }),
        col("c_smallint", { kind: "smallint" }),
        col("c_integer", { kind: "integer" }),
        col("c_bigint", { kind: "bigint" }, { default: { kind: "literal", value: "9007199254740993" } }),
        col("c_numeric", { kind: "numeric", precision: 20, scale: 4 }),
        col("c_numeric_any", { kind: "numeric" }, { default: { kind: "literal", value: "-12.50" } }),
        col("c_real", { kind: "real" }),
        col("c_double", { kind: "double" }),
        col("c_boolean", { kind: "boolean" }, { default: { kind: "literal", value: true } }),
        col("c_timestamptz", { kind: "timestamptz" }, { default: { kind: "literal", value: "2024-03-10T01:59:59.123Z" } }),
        col("c_timestamp", { kind: "timestamp" }),
        col("c_date", { kind: "date" }, { default: { kind: "literal", value: "1999-12-31" } }),
        col("c_time", { kind: "time" }),
        col("c_jsonb", { kind: "jsonb" }),
        col("c_json", { kind: "json" }),
        col("c_bytea", { kind: "bytea" }, { default: { kind: "literal", value: "\\x00ff" } }),
        col("c_enum", { kind: "enum", name: "member_role" }),
        col("c_tags", { kind: "array", element: { kind: "text" } }, { default: { kind: "literal", value: ["a", "b'c"] } }),
      ],
      primaryKey: { name: "pk_samples", columns: ["id"] },
      uniques: [],
      indexes: [{ name: "ix_samples_c_jsonb", elements: [{ column: "c_jsonb" }], unique: false, using: "gin" }],
      foreignKeys: [],
      checks: [],
    },
  ],
};

const table = (name: string): TableSchema => fixtureSchema.tables.find((t) => t.name === name)!;
const samples = table("samples");
const sampleColumns = samples.columns.filter((c) => c.name !== "id");

/** Values with the edge cases of each type; every key is a `samples` column. */
export const sampleRows: Record<string, unknown>[] = [
  {
    c_uuid: "0190d5a4-7c3e-7000-8000-000000000001",
    c_text: "",
    c_varchar: "héllo 👋",
    c_smallint: -32768,
    c_integer: 2147483647,
    c_bigint: 2n ** 53n + 1n,
    c_numeric: "-12345678901234.5678",
    c_numeric_any: "-12.50",
    c_real: 1.5,
    c_double: Math.PI,
    c_boolean: false,
    c_timestamptz: new Date("2024-03-10T01:59:59.123Z"),
    c_timestamp: new Date("2024-03-10T02:30:00.456Z"),
    c_date: "1999-12-31",
    c_time: "23:59:59.5",
    c_jsonb: { nested: { list: [1, "two", null, { deep: true }] }, emoji: "👋", quote: "it's \"quoted\"" },
    c_json: { kept: "as is" },
    c_bytea: new Uint8Array([0x00, 0xff, 0x10, 0x5c, 0x0a]),
    c_enum: "admin",
    c_tags: ["", "a,b", 'say "hi"', "back\\slash", "{braces}", "NULL"],
  },
  {
    c_uuid: null,
    c_text: "héllo 👋\ttab\nnewline\\backslash",
    c_varchar: null,
    c_smallint: 0,
    c_integer: -1,
    c_bigint: -(2n ** 63n),
    c_numeric: "0.0000",
    c_numeric_any: "1e-5",
    c_real: null,
    c_double: -0.1,
    c_boolean: true,
    c_timestamptz: new Date("1970-01-01T00:00:00.000Z"),
    c_timestamp: new Date("1999-12-31T23:59:59.999Z"),
    c_date: "2024-02-29",
    c_time: "00:00:00",
    c_jsonb: [1, { a: [] }, "x", null],
    c_json: [],
    c_bytea: new Uint8Array([]),
    c_enum: null,
    c_tags: [],
  },
];

/** numeric prints what Postgres stores: `1e-5` comes back as 0.00001. */
const expectedRows = sampleRows.map((row) => (row.c_numeric_any === "1e-5" ? { ...row, c_numeric_any: "0.00001" } : row));

function encodedRow(driver: Driver, row: Record<string, unknown>): unknown[] {
  return sampleColumns.map((c) => driver.encode(c.type, row[c.name]));
}

const insertSample = `INSERT INTO "samples" (${sampleColumns.map((c) => `"${c.name}"`).join(", ")}) VALUES (${sampleColumns.map((_, i) => `$${i + 1}`).join(", ")})`;
const selectSamples = `SELECT ${sampleColumns.map((c) => `"${c.name}"`).join(", ")} FROM "samples" ORDER BY "id"`;

async function violation(promise: Promise<unknown>, driver: Driver): Promise<RetortError> {
  try {
    await promise;
  } catch (error) {
    const translated = driver.translateError(error);
    if (translated instanceof RetortError) return translated;
    throw translated;
  }
  throw new Error("expected the statement to fail");
}

export interface FamilyBackend {
  driver: Driver;
  /** Called once after the suite (drop the database, close the instance). */
  cleanup(): Promise<void>;
}

/** Register the shared tests; `open` gives a driver on an empty database, created once per file. */
export function describePostgresFamily(title: string, open: () => Promise<FamilyBackend>): void {
  describe(title, () => {
    let backend: FamilyBackend;
    let driver: Driver;
    let db: Kysely<any>;
    const originalTz = process.env.TZ;

    beforeAll(async () => {
      // Decoding must not depend on the machine's zone: run everything in one far from UTC.
      process.env.TZ = "America/St_Johns";
      backend = await open();
      driver = backend.driver;
      db = new Kysely<any>({ dialect: kyselyDialectFor(driver) });
      for (const statement of postgresDdl.createSchema(fixtureSchema)) await driver.query(statement);
    });

    afterAll(async () => {
      process.env.TZ = originalTz;
      await backend?.cleanup();
    });

    it("creates the schema: tables, enum, indexes, comments, defaults", async () => {
      const tables = await driver.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(["bans", "guilds", "members", "samples"]);
      const indexes = await driver.query<{ indexname: string; indexdef: string }>(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
      );
      const defs = Object.fromEntries(indexes.rows.map((r) => [r.indexname, r.indexdef]));
      expect(defs.ix_samples_c_jsonb).toContain("USING gin (c_jsonb)");
      expect(defs.ix_members_lower_nickname).toContain("(lower(nickname), user_id DESC)");
      expect(defs.uq_members_guild_id_owner).toMatch(/^CREATE UNIQUE INDEX .* WHERE \(role = 'owner'::member_role\)$/);
      const comment = await driver.query<{ comment: string }>("SELECT obj_description('guilds'::regclass, 'pg_class') AS comment");
      expect(comment.rows[0]!.comment).toBe("Discord servers");

      // Every literal default is accepted by Postgres and reads back as its TypeScript value.
      await driver.query(`INSERT INTO "samples" DEFAULT VALUES`);
      const row = (await driver.query<Record<string, unknown>>(`SELECT * FROM "samples"`)).rows[0]!;
      expect(row).toMatchObject({
        id: 1,
        c_bigint: 9007199254740993n,
        c_numeric_any: "-12.50",
        c_boolean: true,
        c_timestamptz: new Date("2024-03-10T01:59:59.123Z"),
        c_date: "1999-12-31",
        c_bytea: new Uint8Array([0x00, 0xff]),
        c_tags: ["a", "b'c"],
      });
      await driver.query(`DELETE FROM "samples"`);

      const guild = (await driver.query<Record<string, unknown>>(`INSERT INTO "guilds" ("name", "slug") VALUES ('g', 'g') RETURNING *`)).rows[0]!;
      expect(guild.settings).toEqual({ theme: "dark", limits: [1, 2] });
      expect(guild.id).toMatch(/^[0-9a-f-]{36}$/);
      expect((guild.expires_at as Date).getTime() - (guild.created_at as Date).getTime()).toBe(30 * 24 * 3600 * 1000);
      await driver.query(`DELETE FROM "guilds"`);
    });

    it("round-trips a value of every type with the contract's TypeScript types", async () => {
      expect(new Date("2024-03-10T00:00:00Z").getTimezoneOffset()).not.toBe(0);
      for (const row of sampleRows) await driver.query(insertSample, encodedRow(driver, row), "test_insert_sample");
      const result = await driver.query<Record<string, unknown>>(selectSamples);
      expect(result.rows).toEqual(expectedRows);
      expect(result.rowCount).toBe(2);
      const bytes = result.rows[0]!.c_bytea;
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
      expect(typeof result.rows[0]!.c_bigint).toBe("bigint");
      // The timestamp column stored the UTC wall time, whatever the process zone.
      const wall = await driver.query<{ text: string }>(`SELECT "c_timestamp"::text AS text FROM "samples" ORDER BY "id" LIMIT 1`);
      expect(wall.rows[0]!.text).toBe("2024-03-10 02:30:00.456");
      await driver.query(`DELETE FROM "samples"`);
    });

    it("binds Dates and bigints given without a column (plain Kysely use)", async () => {
      const when = new Date("2024-03-10T01:59:59.123Z");
      const result = await driver.query<Record<string, unknown>>(
        "SELECT $1::timestamptz AS tz, $2::timestamp AS ts, $3::int8 AS big, $4::numeric AS num, $5::int8 + 1 AS sum, count(*) AS n FROM (VALUES (1)) v",
        [when, when, 2n ** 62n, 10n ** 30n, 1n],
      );
      expect(result.rows[0]).toEqual({ tz: when, ts: when, big: 2n ** 62n, num: (10n ** 30n).toString(), sum: 2n, n: 1n });

      const rows = await db.selectFrom(sql`(VALUES (1))`.as("v")).select([sql<Date>`${when}::timestamp`.as("ts")]).execute();
      expect(rows).toEqual([{ ts: when }]);
    });

    it("maps unique violations (constraint, primary key, partial index) with the columns and no values", async () => {
      await driver.query(`INSERT INTO "guilds" ("id", "name", "slug") VALUES ('00000000-0000-4000-8000-000000000001', 'One', 'secret-slug')`);
      const guildId = "00000000-0000-4000-8000-000000000001";

      const slug = await violation(driver.query(`INSERT INTO "guilds" ("name", "slug") VALUES ('Two', 'secret-slug')`), driver);
      expect(slug.code).toBe("RETORT_UNIQUE_VIOLATION");
      expect(slug.details).toEqual({ table: "guilds", constraint: "uq_guilds_slug", columns: ["slug"] });
      expect(slug.message).toBe('Unique constraint "uq_guilds_slug" violated on table "guilds" (slug)');
      expect(slug.hint).toBeTruthy();
      expect(JSON.stringify(slug)).not.toContain("secret-slug");
      expect(slug.cause).toBeInstanceOf(Error);
      // A table the snapshot does not know: the columns come from the error detail.
      expect(translatePostgresError(slug.cause, { tables: [], enums: [] })).toMatchObject({ details: { constraint: "uq_guilds_slug", columns: ["slug"] } });

      await driver.query(`INSERT INTO "members" ("guild_id", "user_id", "nickname", "role") VALUES ($1, 1, 'ann', 'owner')`, [guildId]);
      const pk = await violation(driver.query(`INSERT INTO "members" ("guild_id", "user_id") VALUES ($1, 1)`, [guildId]), driver);
      expect(pk.details).toEqual({ table: "members", constraint: "pk_members", columns: ["guild_id", "user_id"] });

      const pair = await violation(driver.query(`INSERT INTO "members" ("guild_id", "user_id", "nickname") VALUES ($1, 2, 'ann')`, [guildId]), driver);
      expect(pair.message).toBe('Unique constraint "uq_members_guild_id_nickname" violated on table "members" (guild_id, nickname)');

      const owner = await violation(driver.query(`INSERT INTO "members" ("guild_id", "user_id", "role") VALUES ($1, 3, 'owner')`, [guildId]), driver);
      expect(owner.details).toEqual({ table: "members", constraint: "uq_members_guild_id_owner", columns: ["guild_id"] });
      await driver.query(`DELETE FROM "guilds"`);
    });

    it("maps foreign key, not-null and check violations", async () => {
      const missing = "00000000-0000-4000-8000-0000000000ff";
      const fk = await violation(driver.query(`INSERT INTO "members" ("guild_id", "user_id") VALUES ($1, 1)`, [missing]), driver);
      expect(fk.code).toBe("RETORT_FOREIGN_KEY_VIOLATION");
      expect(fk.details).toMatchObject({ table: "members", constraint: "fk_members_guild_id_guilds", columns: ["guild_id"], refTable: "guilds" });
      expect(fk.message).not.toContain(missing);

      const guild = (await driver.query<{ id: string }>(`INSERT INTO "guilds" ("name", "slug") VALUES ('g', 'g') RETURNING "id"`)).rows[0]!.id;
      await driver.query(`INSERT INTO "bans" ("guild_id", "reason") VALUES ($1, 'spam')`, [guild]);
      const referenced = await violation(driver.query(`DELETE FROM "guilds"`), driver);
      expect(referenced.code).toBe("RETORT_FOREIGN_KEY_VIOLATION");
      expect(referenced.details).toMatchObject({ table: "bans", constraint: "fk_bans_guild_id_guilds", columns: ["guild_id"] });
      expect(referenced.message).toContain("still references");
      await driver.query(`DELETE FROM "bans"`);

      const notNull = await violation(driver.query(`INSERT INTO "guilds" ("slug") VALUES ('x')`), driver);
      expect(notNull.code).toBe("RETORT_NOT_NULL_VIOLATION");
      expect(notNull.details).toMatchObject({ table: "guilds", column: "name", columns: ["name"] });
      expect(notNull.message).toBe('Column "name" of table "guilds" cannot be null');

      const check = await violation(driver.query(`INSERT INTO "members" ("guild_id", "user_id", "age") VALUES ($1, 1, 5)`, [guild]), driver);
      expect(check.code).toBe("RETORT_CHECK_VIOLATION");
      expect(check.details).toEqual({ table: "members", constraint: "ck_members_age", columns: ["age"] });

      // on delete cascade: members go with their guild.
      await driver.query(`INSERT INTO "members" ("guild_id", "user_id") VALUES ($1, 1)`, [guild]);
      await driver.query(`DELETE FROM "guilds"`);
      expect((await driver.query(`SELECT * FROM "members"`)).rows).toEqual([]);

      const other = new Error("boom");
      expect(driver.translateError(other)).toBe(other);
    });

    it("runs transactions with savepoints through Kysely", async () => {
      const slugs = async () => (await db.selectFrom("guilds").select("slug").orderBy("slug").execute()).map((r) => r.slug);

      await db.transaction().execute(async (trx) => {
        await trx.insertInto("guilds").values({ name: "A", slug: "a" }).execute();
      });
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto("guilds").values({ name: "B", slug: "b" }).execute();
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      expect(await slugs()).toEqual(["a"]);

      const trx = await db.startTransaction().execute();
      try {
        await trx.insertInto("guilds").values({ name: "C", slug: "c" }).execute();
        const inner = await trx.savepoint("sp_inner").execute();
        await inner.insertInto("guilds").values({ name: "D", slug: "d" }).execute();
        // A failing statement inside the savepoint aborts only the savepoint.
        await expect(inner.insertInto("guilds").values({ name: "dup", slug: "a" }).execute()).rejects.toMatchObject({ code: "RETORT_UNIQUE_VIOLATION" });
        const outer = await inner.rollbackToSavepoint("sp_inner").execute();
        await outer.insertInto("guilds").values({ name: "E", slug: "e" }).execute();
        await outer.commit().execute();
      } catch (error) {
        await trx.rollback().execute();
        throw error;
      }
      expect(await slugs()).toEqual(["a", "c", "e"]);
      await db.deleteFrom("guilds").execute();
    });

    it("gives a held connection the session to itself until released", async () => {
      const held = await driver.acquire();
      await held.query("BEGIN");
      await held.query(`INSERT INTO "guilds" ("name", "slug") VALUES ('held', 'held')`);
      let outsideSaw: number | undefined;
      const outside = driver.query(`SELECT count(*) AS n FROM "guilds"`).then((r) => {
        outsideSaw = Number((r.rows[0] as { n: bigint }).n);
      });
      await held.query("ROLLBACK");
      held.release();
      await outside;
      expect(outsideSaw).toBe(0);
    });

    it("bulk-loads thousands of rows with awkward values exactly", async () => {
      const awkward = ["tab\there", "line\nbreak", "cr\rlf\r\n", "back\\slash\\", "\\N", "héllo 👋", "", "quote'\"", "\\x00"];
      const rows = Array.from({ length: 3000 }, (_, i): Record<string, unknown> => ({
        ...sampleRows[i % 2],
        c_text: i % 50 === 7 ? null : `${awkward[i % awkward.length]}#${i}`,
        c_integer: i,
        c_tags: i % 3 === 0 ? [awkward[i % awkward.length]!, "a,b", ""] : [],
      }));
      const held = await driver.acquire();
      try {
        const count = await driver.bulkInsert(held, samples, sampleColumns, rows.map((row) => encodedRow(driver, row)));
        expect(count).toBe(3000);
      } finally {
        held.release();
      }
      const back = await driver.query<Record<string, unknown>>(selectSamples);
      const expected = rows.map((row) => (row.c_numeric_any === "1e-5" ? { ...row, c_numeric_any: "0.00001" } : row));
      expect(back.rows).toEqual(expected);

      // Outside a held connection, and violations are translated.
      const guild = (await driver.query<{ id: string }>(`INSERT INTO "guilds" ("name", "slug") VALUES ('g', 'g') RETURNING "id"`)).rows[0]!.id;
      const members = table("members");
      const memberColumns = members.columns.filter((c) => ["guild_id", "user_id"].includes(c.name));
      await expect(driver.bulkInsert(driver, members, memberColumns, [[guild, "1"], [guild, "1"]])).rejects.toMatchObject({
        code: "RETORT_UNIQUE_VIOLATION",
        details: { constraint: "pk_members" },
      });
      expect(await driver.bulkInsert(driver, members, memberColumns, [[guild, "1"], [guild, "2"]])).toBe(2);
      await driver.query(`DELETE FROM "samples"`);
      await driver.query(`DELETE FROM "guilds"`);
    });

    it("bulk-loads lazily, and keeps nothing of a load whose rows throw", async () => {
      const textColumn = sampleColumns.filter((c) => c.name === "c_text" || c.name === "c_integer");
      function* rows(count: number, failAt?: number): Generator<unknown[]> {
        // ~100 KB a row, so 200 rows span several COPY batches on PGlite.
        for (let i = 0; i < count; i++) {
          if (i === failAt) throw new Error("the rows ran dry");
          yield [`${i}:${"x".repeat(100_000)}`, i];
        }
      }
      const rowCount = async () => Number((await driver.query<{ n: bigint }>(`SELECT count(*) AS n FROM "samples"`)).rows[0]!.n);

      expect(await driver.bulkInsert(driver, samples, textColumn, rows(0))).toBe(0);
      await expect(driver.bulkInsert(driver, samples, textColumn, rows(200, 199))).rejects.toThrow("the rows ran dry");
      expect(await rowCount()).toBe(0);

      // Inside a transaction: the failed load leaves the transaction's own work alone (PGlite), or aborts it (pg's single COPY).
      const held = await driver.acquire();
      try {
        await held.query("BEGIN");
        await expect(driver.bulkInsert(held, samples, textColumn, rows(200, 199))).rejects.toThrow("the rows ran dry");
        await held.query("ROLLBACK");
        await held.query("BEGIN");
        expect(await driver.bulkInsert(held, samples, textColumn, rows(200))).toBe(200);
        await held.query("COMMIT");
      } finally {
        held.release();
      }
      expect(await rowCount()).toBe(200);
      const last = await driver.query<{ c_text: string }>(`SELECT "c_text" FROM "samples" WHERE "c_integer" = 199`);
      expect(last.rows[0]!.c_text).toBe(`199:${"x".repeat(100_000)}`);
      await driver.query(`DELETE FROM "samples"`);
    });

    it("drops everything it created", async () => {
      for (const statement of postgresDdl.dropSchema(fixtureSchema)) await driver.query(statement);
      const left = await driver.query(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
         UNION ALL SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'`,
      );
      expect(left.rows).toEqual([]);
      // Dropping again is not an error.
      for (const statement of postgresDdl.dropSchema(fixtureSchema)) await driver.query(statement);
    });
  });
}
