/**
 * The model DSL an adopted schema needs (issue 12): named column-level primary keys and checks,
 * default spellings kept exactly, sequence-backed serials, unique index vs unique constraint.
 * Each piece is built on every backend from models, read back by the introspector, and compared
 * with the models: the database holds exactly what the model says and the differ sees no change.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { compareSchemas } from "../src/autogenerate/compare.js";
import { sql, t, table, unique, uniqueIndex } from "../src/index.js";
import { compileOperations } from "../src/operations/compile.js";
import { reverseOperations } from "../src/operations/reverse.js";
import { Op } from "../src/operations/types.js";
import { schemaFromModels } from "../src/schema/from-models.js";
import { EMPTY_SCHEMA, type Dialect, type Schema } from "../src/schema/snapshot.js";
import { type Backend, introspectBackend, openBackend, postgresUp, runSteps } from "./operations/support.js";

const DIALECTS: Dialect[] = ["sqlite", "pglite", "postgres"];

/** Create `models` on the backend the way a migration would, and read the database back. */
async function build(backend: Backend, models: unknown[]): Promise<{ target: Schema; live: Schema }> {
  const target = schemaFromModels(models);
  const { ops } = compareSchemas(EMPTY_SCHEMA, target, { dialect: backend.dialect });
  await runSteps(backend.driver, compileOperations(ops, backend.dialect, EMPTY_SCHEMA).steps);
  return { target, live: await introspectBackend(backend) };
}

/** Apply the differ's operations from the live schema to `models` on the backend; read it back. */
async function migrate(backend: Backend, live: Schema, models: unknown[]): Promise<{ ops: string[]; raw: Op[]; target: Schema; folded: Schema; live: Schema }> {
  const target = schemaFromModels(models);
  const { ops } = compareSchemas(live, target, { dialect: backend.dialect });
  const compiled = compileOperations(ops, backend.dialect, live);
  await runSteps(backend.driver, compiled.steps);
  return { ops: ops.map((op) => Op.describe(op)), raw: ops, target, folded: compiled.schema, live: await introspectBackend(backend) };
}

/** Run operations (e.g. a downgrade) against the live schema; read it back. */
async function run(backend: Backend, live: Schema, ops: readonly Op[]): Promise<Schema> {
  await runSteps(backend.driver, compileOperations(ops, backend.dialect, live).steps);
  return introspectBackend(backend);
}

async function sequences(backend: Backend): Promise<string[]> {
  if (backend.dialect === "sqlite") return [];
  const { rows } = await backend.driver.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relkind = 'S' ORDER BY relname");
  return rows.map((row) => row.relname);
}

function differences(live: Schema, target: Schema, dialect: Dialect): string[] {
  const result = compareSchemas(live, target, { dialect });
  return [...result.ops.map((op) => JSON.stringify(op)), ...result.decisions.map((d) => JSON.stringify(d))];
}

describe("explicit names (model level)", () => {
  it("a column-level primary key takes { name }; unnamed keeps pk_<table>", () => {
    const named = table("accounts", { id: t.integer().primaryKey({ name: "accounts_pkey" }) });
    const plain = table("users", { id: t.integer().primaryKey() });
    const [a, u] = schemaFromModels([named, plain]).tables;
    expect(a!.primaryKey).toEqual({ name: "accounts_pkey", columns: ["id"] });
    expect(u!.primaryKey).toEqual({ name: "pk_users", columns: ["id"] });
  });

  it("a column-level check with a name is named exactly that; unnamed ones follow ck_<table>_<column>", () => {
    const model = table("scores", {
      value: t.integer().check("value >= 0", "scores_value_nonnegative").check("value < 1000"),
      other: t.integer().check("other > 0"),
    });
    expect(schemaFromModels([model]).tables[0]!.checks).toEqual([
      { name: "scores_value_nonnegative", expression: "value >= 0" },
      { name: "ck_scores_value_2", expression: "value < 1000" },
      { name: "ck_scores_other", expression: "other > 0" },
    ]);
  });
});

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresUp)(`DSL pieces on ${dialect}`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await openBackend(dialect);
    });
    afterAll(async () => {
      await backend?.close();
    });
    beforeEach(async () => {
      await backend.reset();
    });

    it("named primary keys and checks reach the database with exactly those names", async () => {
      const model = table("accounts", {
        id: t.integer().primaryKey({ name: "accounts_pkey" }),
        balance: t.integer().check("balance >= 0", "balance_nonnegative"),
        limit: t.integer().check("\"limit\" > 0"),
      });
      const { target, live } = await build(backend, [model]);
      const [table0] = live.tables;
      // SQLite does not keep primary key names; Postgres does.
      if (dialect !== "sqlite") expect(table0!.primaryKey).toEqual({ name: "accounts_pkey", columns: ["id"] });
      expect(table0!.checks.map((c) => c.name)).toEqual(expect.arrayContaining(["balance_nonnegative", "ck_accounts_limit"]));
      expect(differences(live, target, dialect)).toEqual([]);
    });

    it("defaultNow() and CURRENT_TIMESTAMP are each created as written and compare equal", async () => {
      const model = table("events", {
        id: t.integer().primaryKey(),
        a: t.timestamptz().defaultNow(),
        b: t.timestamptz().default(sql`CURRENT_TIMESTAMP`),
      });
      const { target, live } = await build(backend, [model]);
      const columns = Object.fromEntries(live.tables[0]!.columns.map((c) => [c.name, c.default]));
      expect(columns.a).toEqual({ kind: "now" });
      expect(columns.b).toEqual({ kind: "sql", sql: "CURRENT_TIMESTAMP" });
      expect(differences(live, target, dialect)).toEqual([]);
      // And the other way round: a model saying defaultNow() for the CURRENT_TIMESTAMP column sees no change.
      const swapped = schemaFromModels([
        table("events", { id: t.integer().primaryKey(), a: t.timestamptz().default(sql`CURRENT_TIMESTAMP`), b: t.timestamptz().defaultNow() }),
      ]);
      expect(differences(live, swapped, dialect)).toEqual([]);
    });

    it("uniqueIndex() builds a unique index, unique() a constraint; the differ tells them apart and converts", async () => {
      const columns = () => ({ id: t.integer().primaryKey(), a: t.text(), b: t.text() });
      const first = table("pairs", columns(), (c) => [unique(c.a), uniqueIndex(c.a, c.b)]);
      const { target, live } = await build(backend, [first]);
      expect(live.tables[0]!.uniques).toEqual([{ name: "uq_pairs_a", columns: ["a"] }]);
      expect(live.tables[0]!.indexes).toEqual([{ name: "uq_pairs_a_b", elements: [{ column: "a" }, { column: "b" }], unique: true }]);
      expect(differences(live, target, dialect)).toEqual([]);

      const flipped = table("pairs", columns(), (c) => [uniqueIndex(c.a), unique(c.a, c.b)]);
      const after = await migrate(backend, live, [flipped]);
      expect(after.ops).toEqual(["dropConstraint uq_pairs_a on pairs", "dropIndex uq_pairs_a_b", "addUnique uq_pairs_a_b on pairs", "createIndex uq_pairs_a on pairs"]);
      expect(after.live.tables[0]!.uniques).toEqual([{ name: "uq_pairs_a_b", columns: ["a", "b"] }]);
      expect(after.live.tables[0]!.indexes).toEqual([{ name: "uq_pairs_a", elements: [{ column: "a" }], unique: true }]);
      expect(differences(after.live, after.target, dialect)).toEqual([]);
    });

    it("t.serial() / t.bigserial(): a sequence-numbered key, read back as serial (not identity), dropped with its table", async () => {
      const model = table("tickets", { id: t.bigserial().primaryKey(), title: t.text() });
      const { target, live } = await build(backend, [model]);
      expect(live.tables[0]!.columns[0]).toEqual({ name: "id", type: { kind: "bigint" }, nullable: false, serial: true });
      expect(differences(live, target, dialect)).toEqual([]);
      // An identity column is something else: the differ sees the difference.
      expect(differences(live, schemaFromModels([table("tickets", { id: t.bigint().identity().primaryKey(), title: t.text() })]), dialect)).not.toEqual([]);
      await backend.driver.query(`INSERT INTO tickets (title) VALUES ('a'), ('b')`);
      await backend.driver.query(`DELETE FROM tickets WHERE title = 'b'`);
      await backend.driver.query(`INSERT INTO tickets (title) VALUES ('c')`);
      const { rows } = await backend.driver.query<{ id: unknown; title: string }>("SELECT id, title FROM tickets ORDER BY id");
      // Like a sequence, a number is never handed out twice (SQLite: AUTOINCREMENT).
      expect(rows.map((row) => [Number(row.id), row.title])).toEqual([[1, "a"], [3, "c"]]);
      if (dialect !== "sqlite") expect(await sequences(backend)).toEqual(["tickets_id_seq"]);
      const dropped = await run(backend, live, compareSchemas(live, EMPTY_SCHEMA, { dialect }).ops);
      expect(dropped.tables).toEqual([]);
      expect(await sequences(backend)).toEqual([]);
    });

    it("a plain key becomes serial and back (alterColumn serial), folded like the database introspects it", async () => {
      const plain = table("counters", { id: t.integer().primaryKey(), n: t.integer() });
      const { live } = await build(backend, [plain]);
      await backend.driver.query("INSERT INTO counters (id, n) VALUES (1, 10), (5, 50)");
      const up = await migrate(backend, live, [table("counters", { id: t.serial().primaryKey(), n: t.integer() })]);
      expect(up.ops).toEqual(["alterColumn counters.id (serial)"]);
      expect(up.live.tables[0]!.columns[0]).toEqual({ name: "id", type: { kind: "integer" }, nullable: false, serial: true });
      expect(differences(up.live, up.folded, dialect)).toEqual([]);
      expect(differences(up.live, up.target, dialect)).toEqual([]);
      await backend.driver.query("INSERT INTO counters (n) VALUES (60)");
      const { rows } = await backend.driver.query<{ id: unknown }>("SELECT id FROM counters WHERE n = 60");
      expect(Number(rows[0]!.id)).toBe(6);
      if (dialect !== "sqlite") expect(await sequences(backend)).toEqual(["counters_id_seq"]);

      const down = await run(backend, up.live, reverseOperations(up.raw));
      expect(down.tables[0]!.columns[0]).toEqual({ name: "id", type: { kind: "integer" }, nullable: false });
      expect(differences(down, schemaFromModels([plain]), dialect)).toEqual([]);
      expect(await sequences(backend)).toEqual([]);
    });
  });
}

describe.skipIf(!postgresUp)("serial columns that are not keys [postgres]", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend("postgres");
  });
  afterAll(async () => backend?.close());

  it("addColumn creates the owned sequence, dropColumn drops it, and a renamed column keeps being serial", async () => {
    const base = table("events", { id: t.uuid().primaryKey(), name: t.text() });
    const { live } = await build(backend, [base]);
    const added = await migrate(backend, live, [table("events", { id: t.uuid().primaryKey(), name: t.text(), seq: t.serial() })]);
    expect(added.ops).toEqual(["addColumn events.seq"]);
    expect(added.live.tables[0]!.columns[2]).toEqual({ name: "seq", type: { kind: "integer" }, nullable: false, serial: true });
    expect(await sequences(backend)).toEqual(["events_seq_seq"]);
    const renamed = await run(backend, added.live, [{ kind: "renameColumn", table: "events", from: "seq", to: "position" }]);
    expect(renamed.tables[0]!.columns[2]).toEqual({ name: "position", type: { kind: "integer" }, nullable: false, serial: true });
    const dropped = await migrate(backend, renamed, [base]);
    expect(dropped.ops).toEqual(["dropColumn events.position"]);
    expect(await sequences(backend)).toEqual([]);
  });

  it("refuses a serial that also has a default or identity", () => {
    expect(() => schemaFromModels([table("x", { id: t.serial().default(1 as never) })])).toThrow(/serial column is numbered by its sequence/);
  });
});
