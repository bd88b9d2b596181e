import { expect, it } from "vitest";
import type { Insert } from "../src/index.js";
import { allTypes, mood } from "./fixtures/all-types.js";
import { describeBackends } from "./support/backends.js";

type Values = Insert<typeof allTypes>;

/** Each case is written, read back through get() and find(), and must come back equal. */
const cases: Array<[string, Values]> = [
  ["plain values", {
    uuid: "0190f8a2-7b3c-7d4e-8f00-123456789abc",
    text: "hello",
    varchar: "0123456789",
    smallint: -32768,
    integer: 2147483647,
    bigint: 2n ** 53n + 1n,
    numeric: "-12345678901234.5678",
    real: 1.5,
    double: Math.PI,
    boolean: true,
    timestamptz: new Date("2024-03-10T01:59:59.123Z"),
    timestamp: new Date("1999-12-31T23:59:59.999Z"),
    date: "1999-12-31",
    time: "23:59:59.5",
    jsonb: { nested: { list: [1, "two", null, true], emoji: "👋" } },
    json: [1, 2, 3],
    bytea: new Uint8Array([0, 1, 127, 128, 255]),
    mood: "ünïcode ✓",
    tags: ["", "a,b", 'say "hi"', "{braces}", "back\\slash"],
  }],
  ["edge values", {
    text: "",
    varchar: "héllo 👋",
    smallint: 32767,
    integer: -2147483648,
    bigint: -(2n ** 63n),
    numeric: "0.0000",
    real: -0.25,
    double: -1e-300,
    boolean: false,
    // Local-time-looking instants and a DST edge in Europe; stored and returned as the same instant.
    timestamptz: new Date("2024-10-27T00:59:59.999Z"),
    timestamp: new Date("1970-01-01T00:00:00.000Z"),
    date: "2000-02-29",
    time: "00:00:00",
    jsonb: [],
    json: "a JSON string",
    bytea: new Uint8Array([]),
    mood: "happy",
    tags: [],
  }],
  ["large bigint and jsonb scalars", { bigint: 2n ** 63n - 1n, jsonb: 123, json: null, numeric: "99999999999999.9999", text: "line\nbreak\ttab\\" }],
  ["all nulls", {}],
];

describeBackends("every column type round-trips", { schema: { allTypes, mood } }, (ctx) => {
  for (const [title, values] of cases) {
    it(title, async () => {
      const created = await ctx.db.models.allTypes.create(values);
      const expected = { ...Object.fromEntries(Object.keys(allTypes.$.columns).map((k) => [k, null])), ...values, id: created.id };
      expect(created).toEqual(expected);
      expect(await ctx.db.models.allTypes.get(created.id)).toEqual(expected);
      const [found] = await ctx.db.models.allTypes.find({ where: { id: created.id } });
      expect(found).toEqual(expected);
      // The typed Kysely instance returns the same values (under database names).
      const viaKysely = await ctx.db.kysely.selectFrom("all_types").selectAll().where("id", "=", created.id).executeTakeFirstOrThrow();
      expect(viaKysely.bigint).toEqual(expected.bigint);
      expect(viaKysely.timestamptz).toEqual(expected.timestamptz);
      expect(viaKysely.jsonb).toEqual(expected.jsonb);
      expect(viaKysely.boolean).toEqual(expected.boolean);
    });
  }

  it("returns the documented JavaScript types", async () => {
    const row = await ctx.db.models.allTypes.create(cases[0]![1]);
    expect(typeof row.bigint).toBe("bigint");
    expect(typeof row.numeric).toBe("string");
    expect(row.timestamptz).toBeInstanceOf(Date);
    expect(row.bytea).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(row.bytea)).toBe(false);
    expect(typeof row.integer).toBe("number");
    expect(typeof row.boolean).toBe("boolean");
  });

  it("keeps numeric scale like Postgres does", async () => {
    const row = await ctx.db.models.allTypes.create({ numeric: "1.5" });
    expect(row.numeric).toBe("1.5000");
  });

  it("filters by bigint, Date and boolean values", async () => {
    await ctx.db.models.allTypes.createMany([
      { bigint: 2n ** 60n, timestamptz: new Date("2024-01-01T00:00:00Z"), boolean: true },
      { bigint: 5n, timestamptz: new Date("2025-01-01T00:00:00Z"), boolean: false },
    ]);
    expect((await ctx.db.models.allTypes.find({ where: { bigint: { gt: 2n ** 59n } } })).map((r) => r.bigint)).toEqual([2n ** 60n]);
    expect(await ctx.db.models.allTypes.count({ timestamptz: { gte: new Date("2024-06-01T00:00:00Z") } })).toBe(1);
    expect(await ctx.db.models.allTypes.count({ boolean: false })).toBe(1);
  });
});
