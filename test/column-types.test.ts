/**
 * Column types other tools create: a fractional-second precision on time types (Prisma's
 * `TIMESTAMP(3)`, Rails' `timestamp(6)`), varchar without a length (Rails' strings) and inet
 * (Rails' and Django's IP address fields). The same values read back on every backend, as
 * Postgres gives them: SQLite stores text, rounded and formatted on the way in.
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

const hosts = table("hosts", {
  id: t.integer().primaryKey(),
  address: t.inet(),
  fallback: t.inet().default("10.0.0.1/32"),
});

describeBackends("inet", { schema: { hosts } }, (ctx) => {
  it("reads back every address as Postgres prints it, on every backend", async () => {
    const given = ["10.0.0.1/32", "10.0.0.0/8", "::1/128", "2001:DB8:0:0:1:0:0:1", "0:0:0:0:0:ffff:102:304", "::0.0.0.2", "fe80::1/64"];
    await ctx.db.models.hosts.createMany(given.map((address, i) => ({ id: i + 1, address })));
    const rows = await ctx.db.models.hosts.find({ orderBy: { id: "asc" } });
    expect(rows.map((row) => row.address)).toEqual(["10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::1:0:0:1", "::ffff:1.2.3.4", "::2", "fe80::1/64"]);
    expect(rows.every((row) => row.fallback === "10.0.0.1")).toBe(true);
    // A filter value is compared as an address, however it is written.
    expect(await ctx.db.models.hosts.count({ address: "0:0:0:0:0:0:0:1" })).toBe(1);
  });

  it("refuses what is not an address, before any SQL", async () => {
    for (const address of ["10.0.0.256", "1.2.3.4/33", "fe80::1%eth0", "localhost"]) {
      const error = await ctx.db.models.hosts.create({ id: 100, address }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRetortError(error) && error.code, address).toBe("RETORT_VALIDATION");
      expect((error as Error).message).toContain("IPv4 or IPv6 address");
    }
    expect(await ctx.db.models.hosts.count()).toBe(0);
  });
});
