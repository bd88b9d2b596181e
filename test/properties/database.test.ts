/**
 * Property tests on real databases (issue 4's proof):
 * - a random schema, created on the database and introspected back, compares equal (no
 *   operations): no false positives;
 * - for a random pair (A, B): applying autogenerate(A → B) to a database at A gives B, and the
 *   generated downgrade gives A back.
 * RETORT_PROPERTY_RUNS raises the number of cases (the long mode: thousands).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareSchemas, downgradeOperations } from "../../src/autogenerate/index.js";
import { compileOperations } from "../../src/operations/compile.js";
import { Op } from "../../src/operations/types.js";
import { familyOf, type Dialect, type Schema } from "../../src/schema/snapshot.js";
import { schemaArbitrary, schemaPairArbitrary } from "../autogenerate/arbitraries.js";
import { type Backend, createOnBackend, introspectBackend, openBackend, postgresUp, runSteps } from "../operations/support.js";

const RUNS = Number(process.env.RETORT_PROPERTY_RUNS ?? 300);
const PAIR_RUNS = Number(process.env.RETORT_PROPERTY_PAIR_RUNS ?? Math.max(50, Math.round(RUNS / 3)));
const DIALECTS: Dialect[] = ["sqlite", "pglite", "postgres"];
/** A fixed seed keeps CI deterministic; set RETORT_PROPERTY_SEED (or "random") to explore. */
const SEED = process.env.RETORT_PROPERTY_SEED === "random" ? Date.now() : Number(process.env.RETORT_PROPERTY_SEED ?? 20261121);
const params = (numRuns: number) => ({ numRuns, seed: SEED });

if (!postgresUp) console.warn("[retort tests] NOTICE: Postgres server unreachable; its property cases are SKIPPED.");

/** The operations still separating the live database from `expected` (empty = equal). */
async function differences(backend: Backend, expected: Schema): Promise<string[]> {
  const result = compareSchemas(await introspectBackend(backend), expected, { dialect: backend.dialect });
  return [...result.ops.map((op) => Op.describe(op)), ...result.decisions.map((d) => `undecided ${d.kind} ${d.from} -> ${d.to}`)];
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresUp)(`autogenerate properties [${dialect}]`, () => {
    let backend: Backend;
    const family = familyOf(dialect);
    beforeAll(async () => {
      backend = await openBackend(dialect);
    });
    afterAll(async () => backend?.close());

    it("dropping a column keeps every other column's comment (found by the pair property on SQLite)", async () => {
      const from: Schema = {
        enums: [],
        tables: [
          {
            name: "accounts",
            columns: [
              { name: "id", type: { kind: "integer" }, nullable: false },
              { name: "name", type: { kind: "text" }, nullable: true, comment: "the column's note" },
              { name: "extra", type: { kind: "integer" }, nullable: true },
              { name: "noted", type: { kind: "integer" }, nullable: true, comment: "goes away" },
            ],
            primaryKey: { name: "pk_accounts", columns: ["id"] },
            uniques: [],
            indexes: [],
            foreignKeys: [],
            checks: [],
          },
        ],
      };
      // Drop "noted" (its comment must not move to "extra") and "extra" (must not take "name"'s).
      const to: Schema = { ...from, tables: [{ ...from.tables[0]!, columns: from.tables[0]!.columns.slice(0, 2) }] };
      await backend.reset();
      await createOnBackend(backend, from);
      await runSteps(backend.driver, compileOperations(compareSchemas(from, to, { dialect }).ops, dialect, from).steps);
      expect(await differences(backend, to)).toEqual([]);
    });

    it(`random schemas → create → introspect → compare gives no operations (${RUNS} cases)`, async () => {
      await fc.assert(
        fc.asyncProperty(schemaArbitrary({ dialect: family }), async (schema) => {
          await backend.reset();
          await createOnBackend(backend, schema);
          expect(await differences(backend, schema)).toEqual([]);
        }),
        params(RUNS),
      );
    }, 600_000);

    it(`random pairs: autogenerate(A → B) applied to A gives B; its downgrade gives A (${PAIR_RUNS} cases)`, async () => {
      await fc.assert(
        fc.asyncProperty(schemaPairArbitrary({ dialect: family }), async ({ from, to, renames }) => {
          await backend.reset();
          await createOnBackend(backend, from);
          const diff = compareSchemas(from, to, { dialect, renames });
          expect(diff.decisions).toEqual([]);
          const up = compileOperations(diff.ops, dialect, from);
          await runSteps(backend.driver, up.steps);
          expect(await differences(backend, to)).toEqual([]);
          // What a generated migration's downgrade does (it also removes added enum values).
          const down = compileOperations(downgradeOperations(diff.ops, { from, dialect }), dialect, up.schema);
          await runSteps(backend.driver, down.steps);
          expect(await differences(backend, from)).toEqual([]);
        }),
        params(PAIR_RUNS),
      );
    }, 600_000);
  });
}

describe("column replacement order", () => {
  it("a table whose every column is replaced gets its new columns before the last old one goes (a table needs a column)", async () => {
    const table = (column: string): Schema => ({
      enums: [],
      tables: [{ name: "orders", columns: [{ name: column, type: { kind: "uuid" }, nullable: true }], uniques: [], indexes: [], foreignKeys: [], checks: [] }],
    });
    const ops = compareSchemas(table("name"), table("title"), { dialect: "sqlite", renames: { notRenames: ["orders.name"] } }).ops;
    expect(ops.map((op) => Op.describe(op))).toEqual(["addColumn orders.title", "dropColumn orders.name"]);
  });
});
