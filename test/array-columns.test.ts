/**
 * Array columns of every element kind models have (text, varchar, smallint, integer, bigint, uuid,
 * boolean, real, double, numeric, date): Postgres arrays on the server and PGlite, JSON arrays on
 * SQLite. The same values read back on every backend, hostile strings, NULL elements, bigints past
 * 2^53 and long decimals included; validation names the element that is wrong.
 */
import { expect, expectTypeOf, it } from "vitest";
import { isRetortError, t, table, type Row } from "../src/index.js";
import { describeBackends } from "./support/backends.js";

const lists = table(
  "lists",
  {
    id: t.integer().primaryKey(),
    texts: t.array(t.text().nullable()).nullable(),
    names: t.array(t.varchar(30)).nullable(),
    words: t.array(t.varchar()).default(["a", "b c"]),
    smalls: t.array(t.smallint()).nullable(),
    ints: t.array(t.integer().nullable()).default([]),
    bigs: t.array(t.bigint().nullable()).nullable(),
    ids: t.array(t.uuid()).nullable(),
    flags: t.array(t.boolean().nullable()).nullable(),
    reals: t.array(t.real()).nullable(),
    doubles: t.array(t.double()).nullable(),
    amounts: t.array(t.numeric(10, 2)).nullable(),
    decimals: t.array(t.numeric()).nullable(),
    days: t.array(t.date()).nullable(),
    tags: t.textArray().nullable(),
  },
  { audit: true },
);

const HOSTILE = ["a,b", '"', "\\", "NULL", "null", " spaced ", "", "{x}", "ünï©ødé ✓", "it's", "tab\there", "line\nbreak"];
const BIG = 2n ** 53n + 1n;

const full = {
  id: 1,
  texts: [...HOSTILE, null],
  names: ["a,b", '"', "\\", "NULL"],
  words: [],
  smalls: [-32768, 0, 32767],
  ints: [1, null, -2147483648, 2147483647],
  bigs: [BIG, -(2n ** 63n), 2n ** 63n - 1n, null, 0n],
  ids: ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000"],
  flags: [true, false, null],
  reals: [1.5, -0.25, 0],
  doubles: [0.1, -1e-7, 1.7976931348623157e308],
  amounts: ["12345678.90", "-0.01", "0.00"],
  decimals: ["123456789012345678901234567890.123456789012345678901", "-0.000000000000000000001", "7"],
  days: ["2024-02-29", "1999-12-31"],
  tags: HOSTILE,
};

const empty = { id: 2, texts: [], names: [], smalls: [], bigs: [], ids: [], flags: [], reals: [], doubles: [], amounts: [], decimals: [], days: [], tags: [] };

describeBackends("array columns", { schema: { lists } }, (ctx) => {
  it("reads back what was written, on every backend: hostile strings, NULL elements, exact bigints and decimals", async () => {
    const created = await ctx.db.models.lists.create(full);
    expect(created).toEqual(full);
    expect(await ctx.db.models.lists.getOrThrow(1)).toEqual(full);
  });

  it("empty arrays, defaults and NULL columns", async () => {
    await ctx.db.models.lists.create(empty);
    await ctx.db.models.lists.create({ id: 3 });
    const [two, three] = await ctx.db.models.lists.find({ orderBy: { id: "asc" } });
    expect(two).toEqual({ ...empty, words: ["a", "b c"], ints: [] });
    expect(three).toMatchObject({ id: 3, texts: null, bigs: null, words: ["a", "b c"], ints: [], tags: null });
  });

  it("a bulk load (COPY on the Postgres family) and an update write the same values", async () => {
    expect(await ctx.db.models.lists.createMany([full, { ...empty, id: 5 }])).toBe(2);
    expect(await ctx.db.models.lists.getOrThrow(1)).toEqual(full);
    await ctx.db.models.lists.update(5, { bigs: [BIG * 2n, null], texts: ["NULL", null], amounts: ["1.5"] });
    // numeric(10, 2) keeps two decimals, as Postgres prints it.
    expect(await ctx.db.models.lists.getOrThrow(5)).toMatchObject({ bigs: [BIG * 2n, null], texts: ["NULL", null], amounts: ["1.50"] });
  });

  it("filters by a whole array value", async () => {
    await ctx.db.models.lists.createMany([full, empty]);
    expect((await ctx.db.models.lists.find({ where: { bigs: full.bigs } })).map((row) => row.id)).toEqual([1]);
    expect((await ctx.db.models.lists.find({ where: { tags: [] } })).map((row) => row.id)).toEqual([2]);
  });

  it("the audit trail has the values as auditValue gives them (bigint elements as digits), for single and bulk writes", async () => {
    await ctx.db.models.lists.create(full);
    await ctx.db.models.lists.createMany([{ ...full, id: 7 }]);
    const entries = await ctx.db.audit.find({ table: lists });
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      expect(entry.after).toMatchObject({ bigs: full.bigs.map((big) => (big === null ? null : big.toString())), texts: full.texts, flags: full.flags, days: full.days, ints: full.ints });
    }
  });

  it("raw queries on the Postgres family read every array type the same way, more dimensions and bounds included", async () => {
    if (ctx.name === "sqlite") return;
    const { rows } = await ctx.db.query<Record<string, unknown>>(
      `SELECT ARRAY[[1, 2], [3, NULL]]::int8[] AS m, '{"a,b",NULL,"NULL"," x "}'::varchar[] AS v, '[0:1]={1,2}'::int4[] AS b,
              '{1.50,-0.000000000000000000001}'::numeric[] AS n, '{t,f,NULL}'::bool[] AS f, '{2024-02-29}'::date[] AS d, '{}'::float8[] AS e`,
    );
    expect(rows).toEqual([{ m: [[1n, 2n], [3n, null]], v: ["a,b", null, "NULL", " x "], b: [1, 2], n: ["1.50", "-0.000000000000000000001"], f: [true, false, null], d: ["2024-02-29"], e: [] }]);
  });

  it("refuses a wrong element before any SQL, naming the table, the column and the element's index", async () => {
    const error = await ctx.db.models.lists.create({ id: 9, ints: [1, 2, "x" as never], names: ["ok", "y".repeat(31)], smalls: [1, 40000] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRetortError(error) && error.code).toBe("RETORT_VALIDATION");
    const message = (error as Error).message;
    expect(message).toContain(`Invalid insert for "lists"`);
    expect(message).toMatch(/ints\.2: .*number/);
    expect(message).toContain("names.1: must be at most 30 characters");
    expect(message).toMatch(/smalls\.1: /);
    // A NULL element only where the element is nullable.
    const nulls = await ctx.db.models.lists.create({ id: 9, smalls: [null as never] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((nulls as Error).message).toMatch(/smalls\.0: /);
    expect(await ctx.db.models.lists.count()).toBe(0);
  });
});

it("types: t.array(t.bigint()) is bigint[], t.array(t.text()) string[], a nullable element adds null", () => {
  type L = Row<typeof lists>;
  expectTypeOf<L["bigs"]>().toEqualTypeOf<Array<bigint | null> | null>();
  expectTypeOf<L["smalls"]>().toEqualTypeOf<number[] | null>();
  expectTypeOf<L["words"]>().toEqualTypeOf<string[]>();
  expectTypeOf<L["tags"]>().toEqualTypeOf<string[] | null>();
  const plain = table("plain", { id: t.integer().primaryKey(), big: t.array(t.bigint()), text: t.array(t.text()) });
  expectTypeOf<Row<typeof plain>["big"]>().toEqualTypeOf<bigint[]>();
  expectTypeOf<Row<typeof plain>["text"]>().toEqualTypeOf<string[]>();
});

it("t.array() refuses element kinds arrays cannot hold, and element columns with more than a type", () => {
  const refused = (make: () => unknown) => {
    try {
      make();
    } catch (error) {
      expect(isRetortError(error) && error.code).toBe("RETORT_INVALID_MODEL");
      return (error as Error).message;
    }
    throw new Error("not refused");
  };
  expect(refused(() => t.array(t.timestamptz()))).toContain("t.array(): arrays of timestamptz are not supported");
  expect(refused(() => t.array(t.jsonb()))).toContain("arrays of jsonb are not supported");
  expect(refused(() => t.array(t.textArray()))).toContain("arrays of array are not supported");
  expect(refused(() => t.array(t.integer().default(1)))).toContain("the element column carries default");
  expect(refused(() => t.array(t.integer().primaryKey()))).toContain("primaryKey");
  // textArray() is the text array.
  expect(t.textArray().config.type).toEqual(t.array(t.text()).config.type);
});

it("a model default is checked element by element", () => {
  let error: unknown;
  try {
    table("bad_defaults", { id: t.integer().primaryKey(), n: t.array(t.smallint()).default([1, 70000]) });
  } catch (caught) {
    error = caught;
  }
  expect(isRetortError(error) && error.code).toBe("RETORT_INVALID_MODEL");
  expect((error as Error).message).toMatch(/^table "bad_defaults", column "n": the default \[1,70000\] does not fit the smallint\[\] column \(element 1: .+\)$/);
});
