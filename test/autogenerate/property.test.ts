/**
 * The differ's crucial properties, on random schemas (arbitraries.ts):
 * - apply(A, compare(A, B)) equals B (by compare, and as data up to list order), and the
 *   downgrade brings it back to A;
 * - the rendered migration, loaded as a real file through the runtime's loader, records the same
 *   operations, and its downgrade restores A;
 * - compare sees no difference between a schema and itself with its lists in another order.
 *
 * RETORT_PROPERTY_RUNS sets the number of runs per property (default 150; e.g. 5000 for a long run).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareSchemas } from "../../src/autogenerate/compare.js";
import { downgradeOperations, renderMigrationBodies } from "../../src/autogenerate/render.js";
import { EMPTY_SCHEMA, type Dialect, type Schema } from "../../src/schema/snapshot.js";
import { canonicalSchema, isValidSchema, schemaArbitrary, schemaPairArbitrary } from "./arbitraries.js";
import { compareDecided, fold, plainOps, recordRendered } from "./support.js";

const RUNS = Number(process.env.RETORT_PROPERTY_RUNS ?? 150);
const DIALECTS: Dialect[] = ["postgres", "sqlite"];

const describeOps = (ops: readonly unknown[]) => JSON.stringify(ops, null, 1);

function reversed<T>(items: readonly T[]): T[] {
  return [...items].reverse();
}

/** The same schema with every list in reverse order. */
function shuffled(schema: Schema): Schema {
  return {
    enums: reversed(schema.enums),
    tables: reversed(schema.tables).map((table) => ({
      ...table,
      columns: reversed(table.columns),
      uniques: reversed(table.uniques),
      indexes: reversed(table.indexes),
      foreignKeys: reversed(table.foreignKeys),
      checks: reversed(table.checks),
    })),
  };
}

describe("schema arbitraries", () => {
  it("make valid schemas and pairs", () => {
    fc.assert(
      fc.property(schemaPairArbitrary(), (pair) => {
        expect(isValidSchema(pair.from)).toBe(true);
        expect(isValidSchema(pair.to)).toBe(true);
      }),
      { numRuns: Math.min(RUNS, 100) },
    );
  });
});

describe.each(DIALECTS)("compareSchemas on %s (property)", (dialect) => {
  it("finds nothing between a schema and itself in another order", () => {
    fc.assert(
      fc.property(schemaArbitrary(), (schema) => {
        const result = compareSchemas(schema, shuffled(schema), { dialect });
        expect(result.ops).toEqual([]);
        expect(result.decisions).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it("creates any schema from nothing and drops it again", () => {
    fc.assert(
      fc.property(schemaArbitrary(), (schema) => {
        const ops = compareSchemas(EMPTY_SCHEMA, schema, { dialect }).ops;
        const built = fold(EMPTY_SCHEMA, ops);
        expect(compareSchemas(built, schema, { dialect }).ops).toEqual([]);
        // SQLite: enums exist only through their columns, so unused ones are not created.
        if (dialect !== "sqlite") expect(canonicalSchema(built)).toEqual(canonicalSchema(schema));
        const dropped = fold(built, compareSchemas(built, EMPTY_SCHEMA, { dialect }).ops);
        expect(dropped.tables).toEqual([]);
        if (dialect !== "sqlite") expect(dropped.enums).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it("apply(A, compare(A, B)) = B, and the downgrade gives A back", () => {
    fc.assert(
      fc.property(schemaPairArbitrary({ dialect: "any" }), (pair) => {
        const result = compareDecided(pair.from, pair.to, dialect, pair.renames);
        const after = fold(pair.from, result.ops);
        const remaining = compareSchemas(after, pair.to, { dialect });
        if (remaining.ops.length > 0) throw new Error(`not at B after ${pair.mutations.join("; ")}:\n${describeOps(remaining.ops)}`);
        // As data too (up to list order): the differ writes B's own definitions.
        if (dialect === "postgres") expect(canonicalSchema(after)).toEqual(canonicalSchema(pair.to));
        const back = fold(after, downgradeOperations(result.ops, { from: pair.from, dialect }));
        const left = compareSchemas(back, pair.from, { dialect });
        if (left.ops.length > 0) throw new Error(`downgrade does not reach A after ${pair.mutations.join("; ")}:\n${describeOps(left.ops)}`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("rendered migrations (property)", () => {
  it.each(DIALECTS)("record exactly the compared operations, and their downgrade restores A (%s)", async (dialect) => {
    await fc.assert(
      fc.asyncProperty(schemaPairArbitrary(), async (pair) => {
        const result = compareDecided(pair.from, pair.to, dialect, pair.renames);
        const bodies = renderMigrationBodies(result.ops, { from: pair.from, dialect });
        const recorded = await recordRendered(bodies);
        // createTable's table lists are compared up to order (the DSL puts column-level constraints first).
        const canon = (ops: unknown[]) =>
          (ops as Array<Record<string, unknown>>).map((op) => (op.kind === "createTable" ? { ...op, table: canonicalSchema({ tables: [op.table as never], enums: [] }).tables[0] } : op));
        expect(canon(plainOps(recorded.up, pair.from))).toEqual(canon(plainOps(result.ops, pair.from)));
        const after = fold(pair.from, recorded.up);
        expect(compareSchemas(after, pair.to, { dialect }).ops).toEqual([]);
        const back = fold(after, recorded.down);
        const left = compareSchemas(back, pair.from, { dialect });
        if (left.ops.length > 0) throw new Error(`rendered downgrade does not reach A (${pair.mutations.join("; ")}):\n${describeOps(left.ops)}\n${bodies.downgrade}`);
      }),
      { numRuns: Math.max(20, Math.round(RUNS / 3)) },
    );
  });
});

describe("schema pairs", () => {
  it("answer every rename question they raise", () => {
    fc.assert(
      fc.property(schemaPairArbitrary(), (pair) => {
        for (const dialect of DIALECTS) expect(compareSchemas(pair.from, pair.to, { dialect, renames: pair.renames }).decisions).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
