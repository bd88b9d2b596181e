/**
 * Raw SQL folded in memory with the real Postgres parser equals what a real database makes of
 * it: the adopted-database fixture, hand-picked statements, and random DDL programs (property).
 * RETORT_PROPERTY_RUNS raises the number of random programs (default 40).
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareSchemas } from "../../src/autogenerate/index.js";
import { connect, type Database } from "../../src/index.js";
import { foldPostgresSql } from "../../src/dialects/postgres/fold-sql.js";
import { introspectPostgres } from "../../src/dialects/postgres/introspect.js";
import { EMPTY_SCHEMA, type Schema } from "../../src/schema/snapshot.js";
import { loadPostgresParser, type PostgresParser } from "../../src/sql/parser.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";

const postgresUp = await postgresReachable();
const RUNS = Number(process.env.RETORT_PROPERTY_RUNS ?? 40);
const parser: PostgresParser = await loadPostgresParser();

function fold(sql: string, from: Schema = EMPTY_SCHEMA): Schema {
  const result = foldPostgresSql(from, sql, parser);
  if ("unfoldable" in result) throw new Error(`unfoldable: ${result.unfoldable}`);
  return result.schema;
}

function unfoldable(sql: string, from: Schema = EMPTY_SCHEMA): string {
  const result = foldPostgresSql(from, sql, parser);
  if (!("unfoldable" in result)) throw new Error("expected the fold to give up");
  return result.unfoldable;
}

// -- a small generator of DDL programs ------------------------------------------------------

/** Choices drawn from a stream of random numbers, so a program is built step by step with state. */
class Chooser {
  private i = 0;
  constructor(private readonly stream: number[]) {}
  int(n: number): number {
    return this.stream[this.i++ % this.stream.length]! % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(percent: number): boolean {
    return this.int(100) < percent;
  }
}

interface GenColumn { name: string; type: string; family: "int" | "text" | "num" | "other"; notNull: boolean; hasDefault?: boolean }
interface GenTable { name: string; columns: GenColumn[]; pk?: GenColumn }

const TYPES: Array<[sql: string, family: GenColumn["family"], defaults: string[]]> = [
  ["integer", "int", ["0", "42", "-1"]],
  ["bigint", "int", ["0", "9007199254740993"]],
  ["smallint", "int", ["1"]],
  ["text", "text", ["'x'", "''", "'it''s'"]],
  ["varchar(40)", "text", ["'n/a'"]],
  ["character varying", "text", ["'n/a'"]],
  ["numeric(10, 2)", "num", ["0", "1.50"]],
  ["numeric", "num", ["0"]],
  ["boolean", "other", ["true", "false"]],
  ["timestamptz", "other", ["now()", "CURRENT_TIMESTAMP"]],
  ["timestamp without time zone", "other", ["now()"]],
  ["timestamp(3) without time zone", "other", ["CURRENT_TIMESTAMP"]],
  ["timestamp(6) with time zone", "other", ["now()"]],
  ["time(0)", "other", ["'12:30:00'"]],
  ["date", "other", ["'2024-02-29'"]],
  ["jsonb", "other", ["'{}'::jsonb", `'{"a": [1, 2]}'::jsonb`]],
  ["json", "other", ["'[]'::json"]],
  ["uuid", "other", ["gen_random_uuid()"]],
  ["text[]", "other", ["'{}'::text[]", "ARRAY['a', 'b c']"]],
  ["integer[]", "other", ["'{}'::integer[]", "ARRAY[1, 2]", "'{1,-2}'"]],
  ["int4[]", "other", ["'{3}'::int4[]"]],
  ["character varying(20)[]", "other", ["'{}'::character varying[]", `'{a,"b c"}'`]],
  ["character varying[]", "other", ["'{}'::character varying[]"]],
  ["bigint[]", "other", ["ARRAY[9007199254740993]::bigint[]"]],
  ["smallint[]", "other", ["'{1}'"]],
  ["numeric(10,2)[]", "other", ["'{1.5}'", "ARRAY[1.5, 2]"]],
  ["uuid[]", "other", ["'{}'"]],
  ["boolean[]", "other", ["ARRAY[true, false]", "'{t}'"]],
  ["double precision[]", "other", ["'{1.5}'"]],
  ["real[]", "other", ["'{}'"]],
  ["date[]", "other", ["ARRAY['2024-02-29']::date[]"]],
  ["double precision", "num", ["1.5"]],
];

function program(choose: Chooser): string[] {
  const out: string[] = [];
  const enums: string[][] = [];
  for (let e = 0; e < choose.int(3); e++) {
    const values = ["a", "b", "c"].slice(0, 1 + choose.int(3));
    enums.push(values);
    out.push(`CREATE TYPE mood${e} AS ENUM (${values.map((v) => `'${v}'`).join(", ")})`);
    if (choose.chance(40)) {
      out.push(`ALTER TYPE mood${e} ADD VALUE 'z'${choose.chance(50) ? " BEFORE 'a'" : ""}`);
      values.push("z");
    }
  }
  const tables: GenTable[] = [];
  const tableCount = 1 + choose.int(3);
  for (let t = 0; t < tableCount; t++) {
    const table: GenTable = { name: `t${t}`, columns: [] };
    const defs: string[] = [];
    const constraints: string[] = [];
    const pkStyle = choose.int(5); // 0 none, 1 column-level, 2 table-level named, 3 serial column, 4 identity
    if (pkStyle === 4) {
      defs.push(`id integer GENERATED ${choose.pick(["ALWAYS", "BY DEFAULT"])} AS IDENTITY PRIMARY KEY`);
      table.pk = { name: "id", type: "integer", family: "int", notNull: true };
      table.columns.push(table.pk);
    } else if (pkStyle === 3) {
      defs.push(`id ${choose.pick(["serial", "bigserial"])} PRIMARY KEY`);
      table.pk = { name: "id", type: "integer", family: "int", notNull: true };
      table.columns.push(table.pk);
    } else if (pkStyle > 0) {
      const column: GenColumn = { name: "id", type: choose.pick(["integer", "bigint", "uuid"]), family: "other", notNull: true };
      defs.push(`id ${column.type}${pkStyle === 1 ? " PRIMARY KEY" : " NOT NULL"}`);
      if (pkStyle === 2) constraints.push(`CONSTRAINT pk_t${t} PRIMARY KEY (id)`);
      table.pk = column;
      table.columns.push(column);
    }
    // A reference to an earlier table with a single-column key (same type).
    const parent = tables.find((candidate) => candidate.pk && candidate.pk.type !== "integer" && choose.chance(60)) ?? tables.find((c) => c.pk && choose.chance(40));
    if (parent?.pk) {
      const type = parent.pk.type === "integer" && parent.columns[0]?.name === "id" ? "bigint" : parent.pk.type;
      const fkType = parent.pk.type;
      void type;
      const action = choose.pick(["", " ON DELETE CASCADE", " ON DELETE SET NULL", " ON UPDATE RESTRICT"]);
      const deferrable = choose.pick(["", "", " DEFERRABLE", " DEFERRABLE INITIALLY DEFERRED", " INITIALLY DEFERRED", " NOT DEFERRABLE"]);
      defs.push(`${parent.name}_id ${fkType === "integer" ? "integer" : fkType} REFERENCES ${parent.name}${choose.chance(50) ? " (id)" : ""}${action}${deferrable}`);
      table.columns.push({ name: `${parent.name}_id`, type: fkType, family: "other", notNull: false });
    }
    const columnCount = 1 + choose.int(5);
    for (let c = 0; c < columnCount; c++) {
      const [type, family, defaults] = choose.chance(15) && enums.length > 0 ? [`mood${choose.int(enums.length)}`, "other" as const, [] as string[]] : choose.pick(TYPES);
      const column: GenColumn = { name: `c${c}`, type, family, notNull: choose.chance(50) };
      let def = `${column.name} ${type}`;
      if (column.notNull) def += " NOT NULL";
      if (type.startsWith("mood") && choose.chance(50)) def += ` DEFAULT '${enums[Number(type.slice(4))]![0]}'`;
      else if (defaults.length > 0 && choose.chance(50)) {
        def += ` DEFAULT ${choose.pick(defaults)}`;
        column.hasDefault = true;
      }
      if (family === "int" && choose.chance(30)) def += choose.chance(50) ? ` CHECK (${column.name} >= 0)` : ` CONSTRAINT ck_t${t}_${column.name} CHECK (${column.name} < 1000)`;
      if (family === "text" && choose.chance(25)) def += " UNIQUE";
      defs.push(def);
      table.columns.push(column);
    }
    const ints = table.columns.filter((column) => column.family === "int" && column.name !== "id");
    if (ints.length >= 2 && choose.chance(50)) constraints.push(`CHECK (${ints[0]!.name} <= ${ints[1]!.name})`);
    if (ints.length >= 1 && choose.chance(30)) constraints.push(`CONSTRAINT uq_t${t}_pair UNIQUE (${ints[0]!.name}${table.pk ? ", id" : ""})`);
    out.push(`CREATE TABLE ${table.name} (${[...defs, ...constraints].join(", ")})`);
    tables.push(table);

    // Later statements on the table.
    const texts = table.columns.filter((column) => column.family === "text");
    const plain = table.columns.filter((column) => column.name.startsWith("c"));
    const indexable = plain.filter((column) => column.type !== "json");
    if (indexable.length > 0 && choose.chance(50)) out.push(`CREATE INDEX ON ${table.name} (${indexable[0]!.name}${choose.chance(50) ? " DESC" : ""})`);
    if (texts.length > 0 && choose.chance(50)) out.push(`CREATE UNIQUE INDEX ix_t${t}_lower ON ${table.name} (lower(${texts[0]!.name}))${choose.chance(50) ? ` WHERE ${texts[0]!.name} IS NOT NULL` : ""}`);
    if (indexable.length > 0 && choose.chance(40)) out.push(`CREATE INDEX ix_t${t}_multi ON ${table.name} USING ${choose.pick(["btree", "hash"])} (${indexable[indexable.length - 1]!.name})`);
    if (choose.chance(40)) out.push(`ALTER TABLE ${table.name} ADD COLUMN extra ${choose.pick(["text", "integer DEFAULT 7", "boolean NOT NULL DEFAULT false"])}`);
    if (choose.chance(30)) out.push(`COMMENT ON TABLE ${table.name} IS 'table ${t}'`);
    if (choose.chance(30)) out.push(`COMMENT ON COLUMN ${table.name}.${plain[0]!.name} IS 'first'`);
    if (choose.chance(30)) out.push(`ALTER TABLE ${table.name} ALTER COLUMN ${plain[0]!.name} DROP NOT NULL`);
    const widen = plain.find((column) => column.type === "integer" && !column.hasDefault);
    if (widen && choose.chance(40)) out.push(`ALTER TABLE ${table.name} ALTER COLUMN ${widen.name} TYPE bigint`);
    const numeric = plain.find((column) => column.family === "int" || column.family === "num");
    if (numeric && choose.chance(40)) out.push(`ALTER TABLE ${table.name} ADD CONSTRAINT ck_t${t}_added CHECK (${numeric.name} IS NULL OR ${numeric.name} > -5) NOT VALID`);
    if (numeric && choose.chance(30)) out.push(`ALTER TABLE ${table.name} ALTER COLUMN ${numeric.name} SET DEFAULT 3`);
    if (choose.chance(20)) out.push(`ALTER TABLE ${table.name} ALTER COLUMN ${plain[0]!.name} DROP DEFAULT`);
    if (table.pk && pkStyle !== 3 && choose.chance(20)) {
      out.push(`ALTER TABLE ${table.name} DROP CONSTRAINT ${pkStyle === 2 ? `pk_t${t}` : `${table.name}_pkey`}`);
      delete table.pk; // nothing may reference it any more
    }
    if (plain.length > 1 && choose.chance(30)) out.push(`ALTER TABLE ${table.name} RENAME COLUMN ${plain[1]!.name} TO renamed_${plain[1]!.name}`);
    else if (plain.length > 1 && choose.chance(30)) out.push(`ALTER TABLE ${table.name} DROP COLUMN ${plain[plain.length - 1]!.name}`);
    if (choose.chance(25)) out.push(`CREATE SEQUENCE seq_t${t} START 100`, `ALTER TABLE ${table.name} ADD COLUMN seq_no bigint NOT NULL DEFAULT nextval('seq_t${t}')`);
    if (choose.chance(20)) out.push(`INSERT INTO ${table.name} DEFAULT VALUES ON CONFLICT DO NOTHING`.replace("INSERT", "SELECT 1; -- ").replace(/; -- .*/, ""));
  }
  if (choose.chance(30)) out.push("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$");
  if (tables.length > 1 && choose.chance(25)) out.push(`DROP TABLE ${tables[tables.length - 1]!.name}${choose.chance(50) ? " CASCADE" : ""}`);
  else if (choose.chance(25)) out.push(`ALTER TABLE ${tables[0]!.name} RENAME TO renamed_${tables[0]!.name}`);
  if (enums.length > 0 && choose.chance(30)) out.push(`ALTER TYPE mood0 RENAME VALUE 'a' TO 'aa'`);
  if (out.some((statement) => statement.startsWith("CREATE INDEX ix_t0_multi")) && choose.chance(50)) out.push("DROP INDEX IF EXISTS ix_t0_multi");
  return out;
}

describe("raw SQL folded with the real Postgres parser", () => {
  it("hand-picked statements: what folds to nothing, and what is left to a real database", () => {
    const base = fold("CREATE TABLE t (id integer PRIMARY KEY, name text)");
    // DML, sequences, functions, grants: nothing the snapshot describes.
    expect(fold("INSERT INTO t VALUES (1, 'a'); UPDATE t SET name = 'b'; CREATE SEQUENCE s; CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; GRANT SELECT ON t TO PUBLIC; SELECT setval('s', 10)", base)).toEqual(base);
    expect(unfoldable("DO $$ BEGIN EXECUTE 'CREATE TABLE x (a int)'; END $$", base)).toMatch(/^DoStmt: /);
    expect(unfoldable("CREATE TABLE c () INHERITS (t)", base)).toMatch(/inheritance/);
    expect(unfoldable("ALTER TABLE t ADD COLUMN p point", base)).toMatch(/type "point"/);
    // Arrays: every spelling of the element type, its modifiers kept; other element types and dimensions left to a database.
    const arrays = fold("CREATE TABLE a (i integer[], j int4[3], v character varying(20)[], w varchar[], n numeric(10,2)[], b bool[], d double precision[], u uuid[] DEFAULT '{}', t text[] DEFAULT ARRAY['x'])");
    expect(arrays.tables[0]!.columns.map((column) => [column.name, column.type, column.default])).toEqual([
      ["i", { kind: "array", element: { kind: "integer" } }, undefined],
      ["j", { kind: "array", element: { kind: "integer" } }, undefined],
      ["v", { kind: "array", element: { kind: "varchar", length: 20 } }, undefined],
      ["w", { kind: "array", element: { kind: "varchar" } }, undefined],
      ["n", { kind: "array", element: { kind: "numeric", precision: 10, scale: 2 } }, undefined],
      ["b", { kind: "array", element: { kind: "boolean" } }, undefined],
      ["d", { kind: "array", element: { kind: "double" } }, undefined],
      ["u", { kind: "array", element: { kind: "uuid" } }, { kind: "literal", value: [] }],
      ["t", { kind: "array", element: { kind: "text" } }, { kind: "literal", value: ["x"] }],
    ]);
    const retyped = fold("ALTER TABLE a ALTER COLUMN w TYPE varchar(5)[], ALTER COLUMN i TYPE bigint[]", arrays);
    expect(retyped.tables[0]!.columns.filter((column) => column.name === "w" || column.name === "i").map((column) => column.type)).toEqual([
      { kind: "array", element: { kind: "bigint" } },
      { kind: "array", element: { kind: "varchar", length: 5 } },
    ]);
    expect(unfoldable("ALTER TABLE t ADD COLUMN p timestamptz[]", base)).toMatch(/arrays of timestamptz are not supported/);
    expect(unfoldable("ALTER TABLE t ADD COLUMN p integer[][]", base)).toMatch(/more than one dimension/);
    expect(unfoldable("ALTER TABLE t ADD COLUMN p serial[]", base)).toMatch(/arrays of serial/);
    expect(unfoldable(`CREATE INDEX ON t (${"x".repeat(60)})`, fold(`ALTER TABLE t ADD COLUMN ${"x".repeat(60)} int`, base))).toMatch(/would shorten/);
    expect(unfoldable("CREATE INDEX ON t (name); CREATE INDEX ON t (name)", base)).toMatch(/would number the generated name "t_name_idx"/);
    expect(unfoldable("CREATE TABLE other.t (a int)", base)).toMatch(/outside the public schema/);
    expect(unfoldable("CREATE TABEL x (a int)")).toMatch(/syntax error/);
    // Deferrable foreign keys: column-level attributes, table-level flags, ALTER CONSTRAINT.
    const people = fold("CREATE TABLE p (id int PRIMARY KEY)");
    const deferred = fold("CREATE TABLE c (a int REFERENCES p DEFERRABLE INITIALLY DEFERRED, b int REFERENCES p DEFERRABLE, d int, CONSTRAINT c_d_fk FOREIGN KEY (d) REFERENCES p INITIALLY DEFERRED)", people);
    const keys = () => deferred.tables.find((table) => table.name === "c")!.foreignKeys.map((fk) => [fk.name, fk.deferrable]);
    expect(keys().sort()).toEqual([["c_a_fkey", "deferred"], ["c_b_fkey", "immediate"], ["c_d_fk", "deferred"]]);
    const altered = fold("ALTER TABLE c ALTER CONSTRAINT c_a_fkey NOT DEFERRABLE; ALTER TABLE c ALTER CONSTRAINT c_b_fkey DEFERRABLE INITIALLY DEFERRED", deferred);
    expect(altered.tables.find((table) => table.name === "c")!.foreignKeys.map((fk) => [fk.name, fk.deferrable]).sort()).toEqual([["c_a_fkey", undefined], ["c_b_fkey", "deferred"], ["c_d_fk", "deferred"]]);
    // What the snapshot has no place for is left to a real database, never dropped.
    expect(unfoldable("CREATE TABLE u (a int UNIQUE DEFERRABLE)")).toMatch(/DEFERRABLE on a constraint other than a foreign key/);
    expect(unfoldable("CREATE TABLE u (a int, CONSTRAINT u_a UNIQUE NULLS NOT DISTINCT (a))")).toMatch(/NULLS NOT DISTINCT/);
    expect(unfoldable("CREATE TABLE u (a int, b int, UNIQUE (a) INCLUDE (b))")).toMatch(/INCLUDE/);
    expect(unfoldable("CREATE UNIQUE INDEX ON t (name) NULLS NOT DISTINCT", base)).toMatch(/NULLS NOT DISTINCT/);
    expect(unfoldable("CREATE INDEX ON t (name NULLS FIRST)", base)).toMatch(/NULLS FIRST\/LAST/);
    // Identity and table comments, which autogenerate writes as op.execute, fold too.
    const identity = fold('ALTER TABLE "t" ALTER COLUMN "id" ADD GENERATED BY DEFAULT AS IDENTITY; COMMENT ON TABLE "t" IS \'people\'', base);
    expect(identity.tables[0]).toMatchObject({ comment: "people", columns: [{ name: "id", identity: "by-default" }, { name: "name" }] });
  });

  describe.skipIf(!postgresUp)("equals the introspected database", () => {
    let database: TempDatabase;
    let client: pg.Client;
    beforeAll(async () => {
      database = await createTempDatabase("retort_fold");
      client = new pg.Client({ connectionString: database.url });
      await client.connect();
    });
    afterAll(async () => {
      await client?.end();
      await database?.drop();
    });

    async function introspected(sql: string): Promise<Schema> {
      await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
      await client.query(sql);
      const db = await connect(database.url, { schema: {} });
      try {
        return await db.withConnection((conn) => introspectPostgres(conn));
      } finally {
        await db.close();
      }
    }

    it("the adopted-database fixture", async () => {
      const sql = readFileSync("test/fixtures/adopted/schema.sql", "utf8");
      const live = await introspected(sql);
      expect(compareSchemas(live, fold(sql), { dialect: "postgres" }).ops).toEqual([]);
      // And the check that this comparison can fail: a fold that missed one statement differs.
      expect(compareSchemas(live, fold(sql.replace(/^CREATE INDEX accounts_created_at_idx.*$/m, "")), { dialect: "postgres" }).ops).toMatchObject([{ kind: "dropIndex", name: "accounts_created_at_idx" }]);
    });

    it("random DDL programs", () => foldEqualsDatabase((statements) => introspected(statements.join(";\n")), RUNS), 300_000);
  });

  describe("equals the introspected PGlite database", () => {
    let db: Database<any>;
    beforeAll(async () => {
      db = await connect("pglite:memory", { schema: {} });
    }, 60_000);
    afterAll(async () => db?.close());
    it("random DDL programs", () =>
      foldEqualsDatabase(async (statements) => {
        await db.query("DROP SCHEMA public CASCADE");
        await db.query("CREATE SCHEMA public");
        for (const statement of statements) await db.query(statement);
        return db.withConnection((conn) => introspectPostgres(conn));
      }, Math.max(5, Math.round(RUNS / 4))), 300_000);
  });
});

/** The property: a random program folded in memory equals what the database introspects after running it. */
async function foldEqualsDatabase(introspect: (statements: string[]) => Promise<Schema>, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(), { minLength: 200, maxLength: 200 }), async (stream) => {
      const statements = program(new Chooser(stream));
      const live = await introspect(statements);
      const sql = statements.join(";\n");
      const folded = fold(sql);
      const diff = compareSchemas(live, folded, { dialect: "postgres" });
      expect(diff.ops, `${sql}\n\nfolded: ${JSON.stringify(folded, null, 1)}`).toEqual([]);
    }),
    { numRuns: runs },
  );
}
