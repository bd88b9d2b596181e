/**
 * The controllers validate with a plain check first and go to zod only when it is unsure
 * (src/model/validation.ts). Property: for every value, in every mode, the answer (valid or not)
 * is zod's own — the plain check must never let through what zod rejects. Values are drawn near
 * each column type's edges (ranges, NUL in text, invalid dates, non-plain objects, extra keys…).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { enumType, t, table } from "../../src/index.js";
import { schemas, validationIssues, type ValidationMode } from "../../src/model/validation.js";

const RUNS = Number(process.env.RETORT_PROPERTY_RUNS ?? 3000);

const mood = enumType("mood", ["happy", "sad"]);

const model = table("v_things", {
  id: t.bigint().primaryKey(),
  name: t.text(),
  code: t.varchar(3).nullable(),
  small: t.smallint().default(0),
  count: t.integer(),
  ratio: t.double().nullable(),
  active: t.boolean(),
  at: t.timestamptz().defaultNow(),
  data: t.jsonb().nullable(),
  blob: t.bytea().nullable(),
  mood: mood.column().nullable(),
  uid: t.uuid().nullable(),
  price: t.numeric(5, 2).nullable(),
  day: t.date().nullable(),
  tags: t.textArray().nullable(),
});

/** Values at each column type's edges. */
const edges: unknown[] = [
  undefined, null, "", "ok", "a\u0000b", "abcd", "abc", 0, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) - 1, 32767, 32768, -32768, -32769, 2 ** 53,
  0n, 2n ** 63n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) - 1n, true, false, new Date(0), new Date("nope"), Buffer.from("x"), new Uint8Array(2),
  "happy", "Happy", "00000000-0000-0000-0000-000000000000", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "123.45", "1234.5", "2026-02-30", "2026-02-28",
  { a: 1 }, [1, "x"], { a: undefined }, { n: NaN }, { d: new Date(0) }, Object.create({ inherited: 1 }), new Map(), ["x", "y"], ["x", 1],
];
const anyValue: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom(...edges), fc.integer(), fc.double(), fc.string(), fc.bigInt());

const keys = Object.keys(model.$.columns);
const record = fc.dictionary(fc.constantFrom(...keys, "extra", "__proto__"), anyValue, { maxKeys: keys.length + 2 });
/** Mostly complete valid-looking rows, so the valid path is exercised, with one field replaced. */
const base = { id: 1n, name: "n", count: 1, active: true };
/** A whole row (what "row" mode wants): every column present. */
const fullRow = { ...base, code: null, small: 0, ratio: null, at: new Date(0), data: null, blob: null, mood: null, uid: null, price: null, day: null, tags: null };
const nearValid = (start: object) => fc.tuple(fc.constantFrom(...keys, "extra"), anyValue).map(([key, value]) => ({ ...start, [key]: value }));
const oddInput = fc.constantFrom<unknown>(null, undefined, 1, "x", [base], new (class Row { id = 1n; name = "n"; count = 1; active = true })());

describe("validation: the plain check answers as zod does", () => {
  for (const mode of ["insert", "update", "row"] as ValidationMode[]) {
    it(`${mode}: valid exactly when zod says so`, () => {
      const zod = schemas(model)[mode];
      let valid = 0;
      fc.assert(
        fc.property(fc.oneof(record, nearValid(mode === "row" ? fullRow : base), nearValid(fullRow), oddInput), (value) => {
          const ours = validationIssues(model, mode, value).length === 0;
          if (ours) valid++;
          expect(ours).toBe(zod.safeParse(value).success);
        }),
        { numRuns: RUNS, seed: 20261203 },
      );
      // The property means little unless both answers occur.
      expect(valid).toBeGreaterThan(RUNS / 20);
    });
  }

  it("every column with every edge value, in every mode: the same answer as zod", () => {
    let compared = 0;
    for (const mode of ["insert", "update", "row"] as ValidationMode[]) {
      const zod = schemas(model)[mode];
      for (const key of [...keys, "extra"]) {
        for (const value of edges) {
          const input = { ...(mode === "row" ? fullRow : base), [key]: value };
          expect({ mode, key, value, valid: validationIssues(model, mode, input).length === 0 }).toEqual({ mode, key, value, valid: zod.safeParse(input).success });
          compared++;
        }
      }
    }
    expect(compared).toBe(3 * (keys.length + 1) * edges.length);
  });

  it("a failing value still gets zod's message naming the field", () => {
    expect(validationIssues(model, "insert", { ...base, count: 2 ** 31 })).toEqual([{ path: ["count"], message: expect.stringMatching(/2147483647|too big/i) }]);
    expect(validationIssues(model, "insert", { ...base, extra: 1 })).toEqual([{ path: ["extra"], message: "is not a column of v_things" }]);
  });
});

/** Array columns: each element is checked by its element's plain check, which must answer as zod does. */
const arrays = table("v_arrays", {
  id: t.integer().primaryKey(),
  ints: t.array(t.integer().nullable()),
  bigs: t.array(t.bigint()).nullable(),
  codes: t.array(t.varchar(3)).nullable(),
  ids: t.array(t.uuid()).nullable(),
  amounts: t.array(t.numeric(5, 2)).nullable(),
  flags: t.array(t.boolean().nullable()).nullable(),
});
const element = fc.oneof(fc.constantFrom(...edges.filter((value) => !Array.isArray(value))), fc.integer(), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.boolean());
// Sparse arrays too: a hole reads as undefined, which zod refuses.
const list = fc.oneof(fc.array(element, { maxLength: 4 }), fc.sparseArray(element, { maxLength: 4 }), fc.constantFrom<unknown>([], [1, null], [1n, 2n ** 63n - 1n], ["abc", "abcd"], [true, null], ["1.50", "123.456"]));

describe("validation of array columns: the plain check answers as zod does", () => {
  for (const mode of ["insert", "update", "row"] as ValidationMode[]) {
    it(`${mode}: valid exactly when zod says so`, () => {
      const zod = schemas(arrays)[mode];
      const full = { id: 1, ints: [], bigs: null, codes: null, ids: null, amounts: null, flags: null };
      let valid = 0;
      fc.assert(
        fc.property(fc.constantFrom(...Object.keys(arrays.$.columns).filter((key) => key !== "id")), list, (key, value) => {
          const input = { ...full, [key]: value };
          const ours = validationIssues(arrays, mode, input).length === 0;
          if (ours) valid++;
          expect(ours).toBe(zod.safeParse(input).success);
        }),
        { numRuns: RUNS, seed: 20261204 },
      );
      expect(valid).toBeGreaterThan(RUNS / 20);
      expect(valid).toBeLessThan(RUNS);
    });
  }
});
