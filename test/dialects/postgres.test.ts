/**
 * The Postgres server backend: DDL text (no server needed), connection failures, and the shared
 * Postgres-family suite on a fresh database of the local server (skipped with a notice when none).
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createPostgresDriver } from "../../src/dialects/postgres/driver.js";
import { columnType, postgresDdl, renderDefault } from "../../src/dialects/postgres/ddl.js";
import { isRetortError, RetortError } from "../../src/errors.js";
import type { ColumnSchema } from "../../src/schema/snapshot.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { describePostgresFamily, fixtureSchema } from "./postgres-family.js";

const serverUp = await postgresReachable();
const emptySchema = { tables: [], enums: [] };

describe("postgres DDL", () => {
  const statements = postgresDdl.createSchema(fixtureSchema);

  it("orders enums, tables, foreign keys, indexes, comments", () => {
    const firstIndexOf = (prefix: string) => statements.findIndex((s) => s.startsWith(prefix));
    const lastIndexOf = (prefix: string) => statements.findLastIndex((s) => s.startsWith(prefix));
    expect(statements[0]).toBe(`CREATE TYPE "member_role" AS ENUM ('owner', 'admin', 'member')`);
    expect(lastIndexOf("CREATE TYPE")).toBeLessThan(firstIndexOf("CREATE TABLE"));
    expect(lastIndexOf("CREATE TABLE")).toBeLessThan(firstIndexOf("ALTER TABLE"));
    expect(lastIndexOf("ALTER TABLE")).toBeLessThan(firstIndexOf("CREATE INDEX"));
    expect(lastIndexOf("CREATE INDEX")).toBeLessThan(firstIndexOf("COMMENT ON"));
  });

  it("renders tables, constraints, indexes and comments", () => {
    expect(statements).toContain(
      [
        `CREATE TABLE "members" (`,
        `  "guild_id" uuid NOT NULL,`,
        `  "user_id" bigint NOT NULL,`,
        `  "nickname" text,`,
        `  "role" "member_role" NOT NULL DEFAULT 'member',`,
        `  "age" smallint,`,
        `  "tags" text[] NOT NULL DEFAULT '{}'::text[],`,
        `  CONSTRAINT "pk_members" PRIMARY KEY ("guild_id", "user_id"),`,
        `  CONSTRAINT "uq_members_guild_id_nickname" UNIQUE ("guild_id", "nickname"),`,
        `  CONSTRAINT "ck_members_age" CHECK (age >= 13)`,
        `)`,
      ].join("\n"),
    );
    expect(statements).toContain(
      `ALTER TABLE "members" ADD CONSTRAINT "fk_members_guild_id_guilds" FOREIGN KEY ("guild_id") REFERENCES "guilds" ("id") ON DELETE CASCADE`,
    );
    expect(statements).toContain(`CREATE UNIQUE INDEX "uq_members_guild_id_owner" ON "members" ("guild_id") WHERE role = 'owner'`);
    expect(statements).toContain(`CREATE INDEX "ix_members_lower_nickname" ON "members" ((lower(nickname)), "user_id" DESC)`);
    expect(statements).toContain(`CREATE INDEX "ix_samples_c_jsonb" ON "samples" USING gin ("c_jsonb")`);
    expect(statements).toContain(`COMMENT ON TABLE "guilds" IS 'Discord servers'`);
    expect(statements).toContain(`COMMENT ON COLUMN "guilds"."name" IS 'Display name, as shown in the client'`);
    const samples = statements.find((s) => s.startsWith(`CREATE TABLE "samples"`))!;
    expect(samples).toContain(`"id" integer GENERATED ALWAYS AS IDENTITY,`);
    expect(samples).toContain(`"c_numeric" numeric(20, 4),`);
    expect(samples).toContain(`"c_double" double precision,`);
    expect(samples).toContain(`"c_varchar" varchar(10),`);
  });

  it("renders defaults as typed literals", () => {
    const column = (type: ColumnSchema["type"], value: ColumnSchema["default"]): ColumnSchema => ({ name: "c", type, nullable: true, default: value });
    const literal = (type: ColumnSchema["type"], value: unknown) => renderDefault(column(type, { kind: "literal", value: value as never }));
    expect(literal({ kind: "jsonb" }, { a: ["it's"] })).toBe(`'{"a":["it''s"]}'::jsonb`);
    expect(literal({ kind: "text" }, "x")).toBe(`'x'`);
    expect(literal({ kind: "boolean" }, true)).toBe("true");
    expect(literal({ kind: "integer" }, -3)).toBe("-3");
    expect(literal({ kind: "bigint" }, "9223372036854775807")).toBe("9223372036854775807");
    expect(literal({ kind: "enum", name: "role" }, "member")).toBe(`'member'`);
    // Arrays as their text form, which Postgres keeps and prints back as written.
    expect(literal({ kind: "array", element: { kind: "text" } }, ["a", "b"])).toBe(`'{a,b}'::text[]`);
    expect(literal({ kind: "array", element: { kind: "text" } }, [])).toBe(`'{}'::text[]`);
    expect(literal({ kind: "array", element: { kind: "integer" } }, [1, -2])).toBe(`'{1,-2}'::integer[]`);
    expect(literal({ kind: "array", element: { kind: "bigint" } }, ["9007199254740993"])).toBe(`'{9007199254740993}'::bigint[]`);
    expect(literal({ kind: "array", element: { kind: "varchar", length: 20 } }, ["a,b", 'q"', "it's"])).toBe(`'{"a,b","q\\"",it''s}'::varchar[]`);
    expect(literal({ kind: "array", element: { kind: "numeric", precision: 10, scale: 2 } }, ["1.50"])).toBe(`'{1.50}'::numeric[]`);
    expect(literal({ kind: "array", element: { kind: "text" } }, ["", "NULL", "null", " x", "{", "\\", "ünï"])).toBe(`'{"","NULL","null"," x","{","\\\\",ünï}'::text[]`);
    expect(() => literal({ kind: "array", element: { kind: "integer" } }, ["x"])).toThrow(/a finite number/);
    expect(literal({ kind: "timestamptz" }, "2024-01-01T00:00:00Z")).toBe(`'2024-01-01T00:00:00Z'::timestamptz`);
    expect(literal({ kind: "bytea" }, "00ff")).toBe(`'\\x00ff'::bytea`);
    expect(renderDefault(column({ kind: "timestamptz" }, { kind: "now" }))).toBe("now()");
    expect(renderDefault(column({ kind: "uuid" }, { kind: "random-uuid" }))).toBe("gen_random_uuid()");
    expect(renderDefault(column({ kind: "text" }, { kind: "sql", sql: "lower('A')" }))).toBe("lower('A')");
    expect(renderDefault(column({ kind: "timestamptz" }, { kind: "sql", sql: "now() + interval '1 day'" }))).toBe("(now() + interval '1 day')");
    expect(renderDefault(column({ kind: "text" }, undefined))).toBeUndefined();
    expect(() => literal({ kind: "integer" }, "12")).toThrow(RetortError);
    expect(columnType({ kind: "numeric", precision: 10 })).toBe("numeric(10)");
  });

  it("drops tables then types", () => {
    expect(postgresDdl.dropSchema(fixtureSchema)).toEqual([
      `DROP TABLE IF EXISTS "samples" CASCADE`,
      `DROP TABLE IF EXISTS "guilds" CASCADE`,
      `DROP TABLE IF EXISTS "bans" CASCADE`,
      `DROP TABLE IF EXISTS "members" CASCADE`,
      `DROP TYPE IF EXISTS "member_role"`,
    ]);
  });
});

describe("postgres connection failures", () => {
  it("names host, port, database and user, never the password", async () => {
    const driver = createPostgresDriver("postgres://postgres:s3cret@127.0.0.1:1/x", { schema: emptySchema });
    try {
      const error = await driver.query("SELECT 1").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRetortError(error, "RETORT_CONNECTION_FAILED")).toBe(true);
      const failure = error as RetortError;
      expect(failure.message).toBe(`Could not connect to Postgres at 127.0.0.1:1 (database "x", user "postgres"): connection refused (ECONNREFUSED)`);
      expect(failure.hint).toContain("127.0.0.1:1");
      for (const text of [failure.message, failure.hint!, JSON.stringify(failure), String(failure)]) expect(text).not.toContain("s3cret");
      await expect(driver.acquire()).rejects.toMatchObject({ code: "RETORT_CONNECTION_FAILED" });
    } finally {
      await driver.close();
    }
  });

  it("rejects a URL that does not parse without echoing its password", () => {
    let error: unknown;
    try {
      createPostgresDriver("postgres://postgres:p@ss w0rd@local host:5432/x", { schema: emptySchema });
    } catch (caught) {
      error = caught;
    }
    expect(isRetortError(error, "RETORT_BAD_URL")).toBe(true);
    expect((error as RetortError).message).toBe('Cannot use database URL "postgres://postgres:***@local host:5432/x": the host "local host" is not a host name, address or socket directory.');
  });

  it.skipIf(!serverUp)("reports a database that does not exist", async () => {
    const url = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
    url.pathname = "/retort_no_such_database";
    const driver = createPostgresDriver(url.toString(), { schema: emptySchema });
    try {
      await expect(driver.query("SELECT 1")).rejects.toMatchObject({
        code: "RETORT_CONNECTION_FAILED",
        message: expect.stringContaining(`database "retort_no_such_database"`),
      });
    } finally {
      await driver.close();
    }
  });
});

describe.skipIf(!serverUp)("postgres server driver", () => {
  describePostgresFamily("postgres (server)", async () => {
    const temp = await createTempDatabase();
    const driver = createPostgresDriver(temp.url, { schema: fixtureSchema, poolSize: 4 });
    return {
      driver,
      async cleanup() {
        await driver.close();
        await temp.drop();
      },
    };
  });

  it("leaves pg's global type parsers alone", async () => {
    const temp = await createTempDatabase();
    const driver = createPostgresDriver(temp.url, { schema: emptySchema });
    const client = new pg.Client({ connectionString: temp.url });
    try {
      expect((await driver.query("SELECT 1::int8 AS n, '2020-01-02'::date AS d")).rows).toEqual([{ n: 1n, d: "2020-01-02" }]);
      await client.connect();
      const plain = await client.query("SELECT 1::int8 AS n");
      expect(plain.rows).toEqual([{ n: "1" }]);
    } finally {
      await client.end();
      await driver.close();
      await temp.drop();
    }
  });

  it("runs named prepared statements, and closes idempotently", async () => {
    const temp = await createTempDatabase();
    const driver = createPostgresDriver(temp.url, { schema: emptySchema, poolSize: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const result = await driver.query("SELECT $1::int + 1 AS n", [i], "retort_test_plus_one");
        expect(result.rows).toEqual([{ n: i + 1 }]);
      }
      const prepared = await driver.query("SELECT name FROM pg_prepared_statements");
      expect(prepared.rows).toEqual([{ name: "retort_test_plus_one" }]);
    } finally {
      await driver.close();
      await driver.close();
      await temp.drop();
    }
    await expect(driver.query("SELECT 1")).rejects.toMatchObject({ code: "RETORT_CLOSED" });
  });
});
