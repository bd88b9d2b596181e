/**
 * Time types with a fractional-second precision and varchar without a length, as Prisma
 * (`TIMESTAMP(3)`) and Rails (`character varying`, `timestamp(6)`) create them: the same values
 * read back on every backend, rounded as Postgres rounds (SQLite stores text and rounds on the way in).
 */
import { expect, it } from "vitest";
import { isRetortError, t, table } from "../src/index.js";
import { describeBackends } from "./support/backends.js";

const events = table("events", {
  id: t.integer().primaryKey(),
  seconds: t.timestamptz(0).nullable(),
  tenths: t.timestamp(1).nullable(),
  millis: t.timestamptz(3).nullable(),
  opens: t.time(0).nullable(),
  hundredths: t.time(2).nullable(),
  label: t.varchar().nullable(),
});

describeBackends("time precision and unlimited varchar", { schema: { events } }, (ctx) => {
  it("rounds to the column's precision, half away from zero, as Postgres does, on every backend", async () => {
    const rows = [
      { id: 1, seconds: new Date("2024-05-06T07:08:09.500Z"), tenths: new Date("2024-05-06T07:08:09.456Z"), millis: new Date("2024-05-06T07:08:09.456Z"), opens: "23:59:59.5", hundredths: "12:00:00.125" },
      // Before 2000, Postgres' epoch: a half rounds towards the past.
      { id: 2, seconds: new Date("1999-12-31T23:59:59.500Z"), tenths: new Date("1990-01-01T00:00:00.050Z"), millis: null, opens: "08:30:00.4", hundredths: "12:00:00.124999" },
    ];
    await ctx.db.models.events.createMany(rows);
    expect(await ctx.db.models.events.find({ orderBy: { id: "asc" } })).toEqual([
      { id: 1, seconds: new Date("2024-05-06T07:08:10.000Z"), tenths: new Date("2024-05-06T07:08:09.500Z"), millis: new Date("2024-05-06T07:08:09.456Z"), opens: "24:00:00", hundredths: "12:00:00.13", label: null },
      { id: 2, seconds: new Date("1999-12-31T23:59:59.000Z"), tenths: new Date("1990-01-01T00:00:00.000Z"), millis: null, opens: "08:30:00", hundredths: "12:00:00.12", label: null },
    ]);
  });

  it("a single create returns the rounded value too", async () => {
    const row = await ctx.db.models.events.create({ id: 3, seconds: new Date("2024-01-01T00:00:00.499Z"), label: "x".repeat(10_000) });
    expect(row.seconds).toEqual(new Date("2024-01-01T00:00:00.000Z"));
    expect(row.label).toHaveLength(10_000);
  });
});

it("a precision outside 0..6 is refused when the model is defined", () => {
  for (const bad of [7, -1, 2.5]) {
    let error: unknown;
    try {
      t.timestamptz(bad);
    } catch (caught) {
      error = caught;
    }
    expect(isRetortError(error) && error.code).toBe("RETORT_INVALID_MODEL");
    expect((error as Error).message).toContain(`timestamptz(${bad}): the precision must be a whole number of fractional-second digits from 0 to 6`);
  }
});
