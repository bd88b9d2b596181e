/**
 * The Postgres introspector's cases, registered by postgres.test.ts (the server) and
 * pglite.test.ts (an in-memory PGlite, i.e. Postgres 18) against their own database. Every case
 * starts from an empty `public` schema, creates a schema with postgresDdl (or plain SQL), reads
 * it back and compares with `toEqual`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as communityBot from "../../examples/community-bot/schema.js";
import { createGenerated, generateSchema } from "../../bench/introspect.js";
import type { Driver } from "../../src/dialects/driver.js";
import { postgresDdl } from "../../src/dialects/postgres/ddl.js";
import { introspectPostgres } from "../../src/dialects/postgres/introspect.js";
import { isRetortError, type RetortError } from "../../src/errors.js";
import { createVersionTablesSql } from "../../src/runtime/version-table.js";
import { schemaFromModels } from "../../src/schema/from-models.js";
import type { ColumnSchema, ColumnType, DefaultValue, JsonValue, Schema, TableSchema } from "../../src/schema/snapshot.js";
import { sorted } from "../support/schema.js";

export interface IntrospectBackend {
  driver: Driver;
  cleanup(): Promise<void>;
}


const col = (name: string, type: ColumnType, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({ name, type, nullable: true, ...extra });
const lit = (value: JsonValue): DefaultValue => ({ kind: "literal", value });

/**
 * Every column type, every default kind, composite keys, every referential action, DESC,
 * partial, expression, GIN and hash indexes, comments. Written the way the database prints it
 * back, except where noted in `printedByPostgres`.
 */
export const handMade: Schema = {
  enums: [
    { name: "mood", values: ["happy", "sad", "ünïcode ✓", "it's"] },
    { name: "unused_state", values: ["zeta", "alpha"] },
  ],
  tables: [
    {
      name: "all_types",
      comment: "One column of every type, with 'quotes'",
      columns: [
        col("id", { kind: "integer" }, { nullable: false, identity: "always" }),
        col("uuid", { kind: "uuid" }, { nullable: false, default: { kind: "random-uuid" } }),
        col("uuid_literal", { kind: "uuid" }, { default: lit("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") }),
        col("text", { kind: "text" }, { default: lit("it's a \\ backslash"), comment: "Free text, 'quoted'" }),
        col("varchar", { kind: "varchar", length: 10 }, { nullable: false, default: lit("x") }),
        col("smallint", { kind: "smallint" }, { default: lit(-1) }),
        col("integer", { kind: "integer" }, { nullable: false, default: lit(0) }),
        col("bigint", { kind: "bigint" }, { default: lit("9007199254740993") }),
        col("bigint_negative", { kind: "bigint" }, { default: lit("-5") }),
        col("bigint_small", { kind: "bigint" }, { default: lit("5") }),
        col("numeric", { kind: "numeric", precision: 20, scale: 4 }, { default: lit("12.50") }),
        col("numeric_any", { kind: "numeric" }, { default: lit("-1.5") }),
        col("numeric_integer", { kind: "numeric", precision: 10 }, { default: lit("7") }),
        col("real", { kind: "real" }, { default: lit(1.5) }),
        col("double", { kind: "double" }, { default: lit(-0.1) }),
        col("boolean", { kind: "boolean" }, { nullable: false, default: lit(false) }),
        col("timestamptz", { kind: "timestamptz" }, { default: lit("2024-01-01T00:00:00.000Z") }),
        col("created_at", { kind: "timestamptz" }, { nullable: false, default: { kind: "now" } }),
        col("expires_at", { kind: "timestamptz" }, { default: { kind: "sql", sql: "now() + '30 days'::interval" } }),
        col("timestamp", { kind: "timestamp" }, { default: lit("2024-02-29T12:30:00.123Z") }),
        col("timestamp_now", { kind: "timestamp" }, { default: { kind: "now" } }),
        col("date", { kind: "date" }, { default: lit("2024-02-29") }),
        col("time", { kind: "time" }, { default: lit("12:34:56") }),
        col("jsonb", { kind: "jsonb" }, { nullable: false, default: lit({ a: [1, 2.5, "x"], b: { c: null }, "it's": true }) }),
        col("json", { kind: "json" }, { default: lit({ messageIds: [] }) }),
        col("bytea", { kind: "bytea" }, { default: lit("01ff") }),
        col("mood", { kind: "enum", name: "mood" }, { default: lit("ünïcode ✓") }),
        col("mood_quoted", { kind: "enum", name: "mood" }, { default: lit("it's") }),
        col("tags", { kind: "array", element: { kind: "text" } }, { nullable: false, default: lit(["a", "b c", "d'e", ""]) }),
        col("tags_empty", { kind: "array", element: { kind: "text" } }, { default: lit([]) }),
        col("names", { kind: "array", element: { kind: "varchar", length: 30 } }, { default: lit(["a,b", '"', "\\", "NULL"]) }),
        col("words", { kind: "array", element: { kind: "varchar" } }, { nullable: false, default: lit([]) }),
        col("smalls", { kind: "array", element: { kind: "smallint" } }, { default: lit([-1, 2]) }),
        col("ints", { kind: "array", element: { kind: "integer" } }, { default: lit([1, 2]) }),
        col("bigs", { kind: "array", element: { kind: "bigint" } }, { default: lit(["9007199254740993", "-5"]) }),
        col("ids", { kind: "array", element: { kind: "uuid" } }, { default: lit(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]) }),
        col("flags", { kind: "array", element: { kind: "boolean" } }, { default: lit([true, false]) }),
        col("reals", { kind: "array", element: { kind: "real" } }, { default: lit([1.5]) }),
        col("doubles", { kind: "array", element: { kind: "double" } }, { default: lit([-0.1, 1e20]) }),
        col("amounts", { kind: "array", element: { kind: "numeric", precision: 10, scale: 2 } }, { default: lit(["1.50"]) }),
        col("decimals", { kind: "array", element: { kind: "numeric" } }, { default: lit(["123456789012345678901234567890.5"]) }),
        col("days", { kind: "array", element: { kind: "date" } }, { default: lit(["2024-02-29"]) }),
        col("plain", { kind: "text" }),
        col("score", { kind: "integer" }),
      ],
      primaryKey: { name: "pk_all_types", columns: ["id"] },
      uniques: [{ name: "uq_all_types_varchar_integer", columns: ["varchar", "integer"] }],
      indexes: [
        { name: "ix_all_types_created_at", elements: [{ column: "created_at", order: "desc" }, { column: "id" }], unique: false },
        { name: "ix_all_types_jsonb", elements: [{ column: "jsonb" }], unique: false, using: "gin" },
        { name: "ix_all_types_lower_text", elements: [{ expression: "lower(text)" }], unique: false },
        { name: "ix_all_types_sum", elements: [{ expression: "integer + score" }, { column: "mood" }], unique: false },
        { name: "ix_all_types_uuid_hash", elements: [{ column: "uuid" }], unique: false, using: "hash" },
        { name: "uq_all_types_plain", elements: [{ column: "plain" }], unique: true, where: "plain IS NOT NULL AND score > 0" },
      ],
      foreignKeys: [],
      checks: [
        { name: "ck_all_types_score", expression: "score >= 0" },
        { name: "ck_all_types_score_or_plain", expression: "score IS NULL OR plain IS NOT NULL" },
      ],
    },
    {
      name: "orgs",
      columns: [col("id", { kind: "bigint" }, { nullable: false, identity: "by-default" }), col("name", { kind: "text" }, { nullable: false })],
      primaryKey: { name: "pk_orgs", columns: ["id"] },
      uniques: [],
      indexes: [],
      foreignKeys: [],
      checks: [],
    },
    {
      name: "memberships",
      comment: "Composite primary key in an order other than the columns'",
      columns: [
        col("user_id", { kind: "uuid" }, { nullable: false }),
        col("org_id", { kind: "bigint" }, { nullable: false }),
        col("role", { kind: "enum", name: "mood" }, { nullable: false, default: lit("happy") }),
      ],
      primaryKey: { name: "pk_memberships", columns: ["org_id", "user_id"] },
      uniques: [],
      indexes: [],
      foreignKeys: [
        { name: "fk_memberships_org_id_orgs", columns: ["org_id"], refTable: "orgs", refColumns: ["id"], onDelete: "restrict", onUpdate: "cascade" },
      ],
      checks: [],
    },
    {
      name: "grants",
      columns: [
        col("id", { kind: "bigint" }, { nullable: false, identity: "by-default" }),
        col("org_id", { kind: "bigint" }, { default: lit("1") }),
        col("user_id", { kind: "uuid" }),
        col("granted_by", { kind: "bigint" }),
        col("parent_id", { kind: "bigint" }),
      ],
      primaryKey: { name: "pk_grants", columns: ["id"] },
      uniques: [],
      indexes: [],
      foreignKeys: [
        {
          name: "fk_grants_org_id_user_id_memberships",
          columns: ["user_id", "org_id"],
          refTable: "memberships",
          refColumns: ["user_id", "org_id"],
          onDelete: "cascade",
          onUpdate: "no action",
        },
        { name: "fk_grants_granted_by_orgs", columns: ["granted_by"], refTable: "orgs", refColumns: ["id"], onDelete: "set null", onUpdate: "restrict" },
        { name: "fk_grants_org_id_orgs", columns: ["org_id"], refTable: "orgs", refColumns: ["id"], onDelete: "set default", onUpdate: "set null" },
        { name: "fk_grants_parent_id_grants", columns: ["parent_id"], refTable: "grants", refColumns: ["id"], onDelete: "no action", onUpdate: "no action" },
      ],
      checks: [],
    },
  ],
};

/**
 * Expressions written one way and printed another by Postgres (pg_get_expr, pretty): the
 * introspector reports the database's text; the differ's normalizer must treat each pair as equal.
 */
export const printedByPostgres: { written: string; printed: string; where: "check" | "index where" | "index expression" | "default" }[] = [
  { where: "check", written: "(score >= 0)", printed: "score >= 0" },
  { where: "check", written: "(score IS NULL) OR (score > 10 AND plain <> '')", printed: "score IS NULL OR score > 10 AND plain <> ''::text" },
  { where: "check", written: "plain IN ('a', 'b')", printed: "plain = ANY (ARRAY['a'::text, 'b'::text])" },
  { where: "check", written: "amount >= 0", printed: "amount >= 0::numeric" },
  { where: "check", written: "score BETWEEN 1 AND 5", printed: "score >= 1 AND score <= 5" },
  { where: "check", written: "CASE WHEN score > 0 THEN true ELSE false END", printed: "\nCASE\n    WHEN score > 0 THEN true\n    ELSE false\nEND" },
  { where: "index where", written: "(plain IS NOT NULL)", printed: "plain IS NOT NULL" },
  { where: "index where", written: "mood = 'happy'", printed: "mood = 'happy'::mood" },
  { where: "index where", written: "score::text <> ''", printed: "score::text <> ''::text" },
  { where: "index expression", written: "(lower(plain))", printed: "lower(plain)" },
  { where: "index expression", written: "LOWER(plain)", printed: "lower(plain)" },
  { where: "index expression", written: "(score * 2)", printed: "score * 2" },
  { where: "index expression", written: "plain || 'x'", printed: "plain || 'x'::text" },
  { where: "index expression", written: "lower(label)", printed: "lower(label::text)" },
  { where: "index expression", written: "integer + score", printed: '"integer" + score' },
  { where: "default", written: "now() + interval '1 day'", printed: "now() + '1 day'::interval" },
  { where: "default", written: "lower('X')", printed: "lower('X'::text)" },
  { where: "default", written: "(1 + 2)", printed: "1 + 2" },
];

/** A table with one expression of each kind above, for the printing case. */
function printingTable(): TableSchema {
  const pick = (where: string) => printedByPostgres.filter((p) => p.where === where);
  return {
    name: "printing",
    columns: [
      col("score", { kind: "integer" }),
      col("plain", { kind: "text" }),
      col("mood", { kind: "enum", name: "mood" }),
      col("created_at", { kind: "timestamptz" }),
      col("amount", { kind: "numeric", precision: 12, scale: 2 }),
      col("label", { kind: "varchar", length: 20 }),
      col("integer", { kind: "integer" }),
      ...pick("default").map((p, i) => col(`default_${i}`, { kind: i === 0 ? "timestamptz" : i === 1 ? "text" : "integer" }, { default: { kind: "sql", sql: p.written } })),
    ],
    uniques: [],
    indexes: [
      ...pick("index where").map((p, i) => ({ name: `ix_printing_where_${String(i).padStart(2, "0")}`, elements: [{ column: "score" }], unique: false, where: p.written })),
      ...pick("index expression").map((p, i) => ({ name: `ix_printing_expression_${String(i).padStart(2, "0")}`, elements: [{ expression: p.written }], unique: false })),
    ],
    foreignKeys: [],
    checks: pick("check").map((p, i) => ({ name: `ck_printing_${String(i).padStart(2, "0")}`, expression: p.written })),
  };
}

/**
 * `schema` (sorted) with expressions replaced by Postgres' printing of them: what introspection
 * of a database created from `schema` must equal.
 */
export function asPrinted(schema: Schema, printing: Record<string, string>): Schema {
  const print = (sql: string) => printing[sql] ?? sql;
  const result = sorted(schema);
  result.tables = result.tables.map((table) => ({
    ...table,
    checks: table.checks.map((check) => ({ ...check, expression: print(check.expression) })),
    indexes: table.indexes.map((index) => ({
      ...index,
      ...(index.where === undefined ? {} : { where: print(index.where) }),
      elements: index.elements.map((element) => ("expression" in element ? { ...element, expression: print(element.expression) } : element)),
    })),
  }));
  return result;
}

async function apply(driver: Driver, statements: string[]): Promise<void> {
  for (const statement of statements) await driver.query(statement);
}

export function describeIntrospection(label: string, open: () => Promise<IntrospectBackend>): void {
  describe(`introspectPostgres (${label})`, () => {
    let backend: IntrospectBackend;
    let driver: Driver;

    beforeAll(async () => {
      backend = await open();
      driver = backend.driver;
    });
    afterAll(() => backend?.cleanup());
    beforeEach(async () => {
      await driver.query("DROP SCHEMA IF EXISTS app CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    });

    async function roundTrip(schema: Schema): Promise<Schema> {
      await apply(driver, postgresDdl.createSchema(schema));
      return introspectPostgres(driver);
    }

    it("reads the example project's models back exactly", async () => {
      const schema = schemaFromModels(communityBot);
      // snippets.name is varchar(50): Postgres shows the implicit cast to text that lower() needs.
      expect(await roundTrip(schema)).toEqual(asPrinted(schema, { "lower(name)": "lower(name::text)" }));
    });

    it("reads every column type, default kind, key, action, index kind and comment back exactly", async () => {
      // A column named like a keyword is quoted in expressions.
      expect(await roundTrip(handMade)).toEqual(asPrinted(handMade, { "integer + score": '"integer" + score' }));
    });

    it("reports expressions as Postgres prints them (the pairs the differ normalizes)", async () => {
      const table = printingTable();
      const result = await roundTrip({ tables: [table], enums: [{ name: "mood", values: ["happy"] }] });
      const printed = result.tables[0]!;
      const pick = (where: string) => printedByPostgres.filter((p) => p.where === where).map((p) => p.printed);
      expect(printed.checks.map((c) => c.expression)).toEqual(pick("check"));
      expect(printed.indexes.filter((i) => i.name.includes("where")).map((i) => i.where)).toEqual(pick("index where"));
      expect(printed.indexes.filter((i) => i.name.includes("expression")).map((i) => (i.elements[0] as { expression: string }).expression)).toEqual(
        pick("index expression"),
      );
      expect(printed.columns.filter((c) => c.name.startsWith("default_")).map((c) => c.default)).toEqual(
        pick("default").map((sql) => ({ kind: "sql", sql })),
      );
    });

    it("reads array columns made by hand (as Rails and Django make them): element types with their modifiers, and defaults", async () => {
      await driver.query(`
        CREATE TABLE arrays (
          tags character varying[] DEFAULT '{}'::character varying[],
          names character varying(30)[] DEFAULT '{"a,b",x}',
          amounts numeric(10,2)[] DEFAULT '{1.5}',
          codes integer[] DEFAULT ARRAY[1, 2],
          bigs bigint[] DEFAULT ARRAY[1, 9007199254740993]::bigint[],
          smalls int2[] DEFAULT ARRAY[1, -2]::smallint[],
          ids uuid[],
          flags boolean[] DEFAULT ARRAY[true, false],
          reals float4[] DEFAULT ARRAY[1.5]::real[],
          doubles double precision[],
          decimals numeric[],
          days date[] DEFAULT ARRAY['2020-01-02']::date[],
          texts text[] DEFAULT ARRAY['a', 'b']::text[],
          bounded integer[3] NOT NULL,
          with_null integer[] DEFAULT '{1,NULL}'
        )`);
      const [table] = (await introspectPostgres(driver)).tables;
      const column = (name: string) => table!.columns.find((c) => c.name === name)!;
      expect(table!.columns.map((c) => [c.name, c.type, c.default])).toEqual([
        ["tags", { kind: "array", element: { kind: "varchar" } }, lit([])],
        ["names", { kind: "array", element: { kind: "varchar", length: 30 } }, lit(["a,b", "x"])],
        ["amounts", { kind: "array", element: { kind: "numeric", precision: 10, scale: 2 } }, lit(["1.5"])],
        ["codes", { kind: "array", element: { kind: "integer" } }, lit([1, 2])],
        ["bigs", { kind: "array", element: { kind: "bigint" } }, lit(["1", "9007199254740993"])],
        ["smalls", { kind: "array", element: { kind: "smallint" } }, lit([1, -2])],
        ["ids", { kind: "array", element: { kind: "uuid" } }, undefined],
        ["flags", { kind: "array", element: { kind: "boolean" } }, lit([true, false])],
        ["reals", { kind: "array", element: { kind: "real" } }, lit([1.5])],
        ["doubles", { kind: "array", element: { kind: "double" } }, undefined],
        ["decimals", { kind: "array", element: { kind: "numeric" } }, undefined],
        ["days", { kind: "array", element: { kind: "date" } }, lit(["2020-01-02"])],
        ["texts", { kind: "array", element: { kind: "text" } }, lit(["a", "b"])],
        ["bounded", { kind: "array", element: { kind: "integer" } }, undefined],
        // A NULL element is no model default: kept as the database's SQL.
        ["with_null", { kind: "array", element: { kind: "integer" } }, { kind: "sql", sql: "'{1,NULL}'::integer[]" }],
      ]);
      expect(column("bounded").nullable).toBe(false);
    });

    it("decodes defaults written by hand in other spellings", async () => {
      await driver.query(`
        CREATE TABLE spellings (
          a timestamptz DEFAULT CURRENT_TIMESTAMP,
          b timestamptz DEFAULT transaction_timestamp(),
          c integer DEFAULT (-(1)),
          d bigint DEFAULT '42',
          e numeric(6, 2) DEFAULT '3.10',
          f text[] DEFAULT '{a,"b c"}',
          g text DEFAULT NULL,
          h double precision DEFAULT 1e20,
          i varchar(3) DEFAULT 'abc'::text,
          j timestamptz DEFAULT '2024-06-01 12:00:00+02',
          k uuid DEFAULT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
          l numeric(5) DEFAULT 5
        )`);
      const [table] = (await introspectPostgres(driver)).tables;
      expect(Object.fromEntries(table!.columns.map((c) => [c.name, c.default]))).toEqual({
        a: { kind: "sql", sql: "CURRENT_TIMESTAMP" },
        b: { kind: "sql", sql: "transaction_timestamp()" },
        c: lit(-1),
        d: lit("42"),
        e: lit("3.10"),
        f: lit(["a", "b c"]),
        // Postgres keeps no default for DEFAULT NULL.
        g: undefined,
        h: lit(1e20),
        i: lit("abc"),
        j: lit("2024-06-01T10:00:00.000Z"),
        // uuid literals come back in lower case.
        k: lit("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        l: lit("5"),
      });
      expect(table!.columns.find((c) => c.name === "l")!.type).toEqual({ kind: "numeric", precision: 5 });
    });

    it("reads timestamp defaults the same whatever the session's time zone", async () => {
      await driver.query(`CREATE TABLE zoned (at timestamptz DEFAULT '2024-06-01T10:00:00.000Z', wall timestamp DEFAULT '2024-06-01T10:00:00.000Z')`);
      const held = await driver.acquire();
      try {
        await held.query("SET TIME ZONE 'Asia/Kolkata'");
        const [table] = (await introspectPostgres(held)).tables;
        expect(table!.columns.map((c) => c.default)).toEqual([lit("2024-06-01T10:00:00.000Z"), lit("2024-06-01T10:00:00.000Z")]);
      } finally {
        await held.query("RESET TIME ZONE");
        held.release();
      }
    });

    it("reads a serial column (a nextval() default of a sequence it owns) as serial, not identity; another sequence's nextval() stays a default", async () => {
      await driver.query("CREATE SEQUENCE shared_seq; CREATE TABLE legacy (id serial PRIMARY KEY, n bigserial, s smallserial, other bigint NOT NULL DEFAULT nextval('shared_seq'))");
      const [table] = (await introspectPostgres(driver)).tables;
      expect(table!.columns).toEqual([
        { name: "id", type: { kind: "integer" }, nullable: false, serial: true },
        { name: "n", type: { kind: "bigint" }, nullable: false, serial: true },
        { name: "s", type: { kind: "smallint" }, nullable: false, serial: true },
        { name: "other", type: { kind: "bigint" }, nullable: false, default: { kind: "sql", sql: "nextval('shared_seq'::regclass)" } },
      ]);
      expect(table!.primaryKey).toEqual({ name: "legacy_pkey", columns: ["id"] });
    });

    it("leaves out Retort's tables, excluded tables, views, sequences and other schemas", async () => {
      await apply(driver, createVersionTablesSql("postgres"));
      await driver.query(`
        CREATE TABLE kept (id integer);
        CREATE TABLE skipped (id integer);
        CREATE VIEW kept_view AS SELECT id FROM kept;
        CREATE SEQUENCE some_seq;
        CREATE SCHEMA app;
        CREATE TABLE app.elsewhere (id integer);
        CREATE TYPE app.elsewhere_state AS ENUM ('x')`);
      const result = await introspectPostgres(driver, { exclude: ["skipped"] });
      expect(result).toEqual({
        tables: [{ name: "kept", columns: [{ name: "id", type: { kind: "integer" }, nullable: true }], uniques: [], indexes: [], foreignKeys: [], checks: [] }],
        enums: [],
      });
    });

    it("reads another schema when asked", async () => {
      await driver.query(`
        CREATE SCHEMA app;
        CREATE TYPE app.state AS ENUM ('on', 'off');
        CREATE TABLE app.things (id integer PRIMARY KEY, state app.state NOT NULL DEFAULT 'on');
        CREATE TABLE public.unrelated (id integer)`);
      expect(await introspectPostgres(driver, { schemaName: "app" })).toEqual({
        tables: [
          {
            name: "things",
            columns: [
              { name: "id", type: { kind: "integer" }, nullable: false },
              // Printed as 'on'::app.state (the schema is not on the search path): still the literal "on".
              { name: "state", type: { kind: "enum", name: "state" }, nullable: false, default: lit("on") },
            ],
            primaryKey: { name: "things_pkey", columns: ["id"] },
            uniques: [],
            indexes: [],
            foreignKeys: [],
            checks: [],
          },
        ],
        enums: [{ name: "state", values: ["on", "off"] }],
      });
      expect(await introspectPostgres(driver, { schemaName: "no_such_schema" })).toEqual({ tables: [], enums: [] });
    });

    it("orders enum labels by their sort order, including values added BEFORE others", async () => {
      await driver.query(`
        CREATE TYPE level AS ENUM ('low', 'high');
        ALTER TYPE level ADD VALUE 'medium' BEFORE 'high';
        ALTER TYPE level ADD VALUE 'lowest' BEFORE 'low';
        ALTER TYPE level ADD VALUE 'highest'`);
      expect((await introspectPostgres(driver)).enums).toEqual([{ name: "level", values: ["lowest", "low", "medium", "high", "highest"] }]);
    });

    it("does not report NOT NULL constraints as checks, nor constraint indexes as indexes", async () => {
      await driver.query(`
        CREATE TABLE strict (a integer NOT NULL, b text NOT NULL CONSTRAINT b_unique UNIQUE, c integer CHECK (c > 0), PRIMARY KEY (a));
        ALTER TABLE strict ALTER COLUMN c SET NOT NULL`);
      const [table] = (await introspectPostgres(driver)).tables;
      expect(table!.checks).toEqual([{ name: "strict_c_check", expression: "c > 0" }]);
      expect(table!.uniques).toEqual([{ name: "b_unique", columns: ["b"] }]);
      expect(table!.indexes).toEqual([]);
      expect(table!.columns.map((c) => c.nullable)).toEqual([false, false, false]);
    });

    it("fails with RETORT_UNSUPPORTED naming every column it cannot represent", async () => {
      await driver.query(`
        CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
        CREATE TABLE places (
          id integer,
          location point,
          label varchar,
          at timestamptz(3),
          counted positive,
          codes integer[],
          stamps timestamptz[],
          grid integer[][],
          doubled integer GENERATED ALWAYS AS (id * 2) STORED
        )`);
      const error = (await introspectPostgres(driver).then(
        () => undefined,
        (e: unknown) => e,
      )) as RetortError;
      expect(isRetortError(error, "RETORT_UNSUPPORTED")).toBe(true);
      expect(error.message).toContain(`"places"."location" (point is not supported)`);
      // varchar without a length and a time precision are described (varchar(), timestamptz(3)).
      expect(error.message).not.toContain(`"places"."label"`);
      expect(error.message).not.toContain(`"places"."at"`);
      expect(error.message).toContain(`"places"."counted" (positive: domain types are not supported)`);
      // Arrays of the element kinds models have are described; others, and more dimensions, are not.
      expect(error.message).not.toContain(`"places"."codes"`);
      expect(error.message).toContain(`"places"."stamps" (timestamp with time zone[]: arrays of this element type are not supported)`);
      expect(error.message).toContain(`"places"."grid" (integer[]: arrays of 2 dimensions are not supported)`);
      expect(error.message).toContain(`"places"."doubled" (generated columns are not supported)`);
      expect(error.message).toContain("Supported column types: uuid, text, varchar[(n)]");
      expect(error.hint).toContain(`exclude: ["places"]`);
      expect(error.details).toMatchObject({ columns: expect.arrayContaining([{ table: "places", column: "location", type: "point" }]) });
      // Leaving the table out is the way through.
      await expect(introspectPostgres(driver, { exclude: ["places"] })).resolves.toEqual({ tables: [], enums: [] });
    });

    it("reads a generated 300-table schema back exactly", async () => {
      const schema = generateSchema(300);
      await createGenerated(driver, schema);
      const times: number[] = [];
      let result: Schema | undefined;
      for (let run = 0; run < 5; run++) {
        const start = performance.now();
        result = await introspectPostgres(driver);
        times.push(performance.now() - start);
      }
      const median = [...times].sort((a, b) => a - b)[2]!;
      console.log(`[introspect ${label}] 300 tables, 2,400 columns, 480 indexes: median of 5 ${median.toFixed(1)} ms (bench/introspect.ts measures this properly)`);
      // amount is numeric: Postgres shows the cast of the integer constant.
      expect(result).toEqual(asPrinted(schema, { "amount >= 0": "amount >= 0::numeric" }));
    });
  });
}
