/**
 * Timestamps read back exactly as the server holds them (to the millisecond, truncated), whatever
 * the session's time zone prints: offsets with minutes (Asia/Kolkata, America/St_Johns) and with
 * seconds (local mean time before 1892 in Europe/Amsterdam), fractions of 1 to 6 digits, years
 * below 100, BC and five-digit years. The server computes the expected value itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Driver } from "../../src/dialects/driver.js";
import { openBackend, postgresUp, type Backend } from "../operations/support.js";

const ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam"];
const SAMPLE = `
  SELECT setseed(0.42);
  CREATE TABLE moments AS
    SELECT timestamptz '1850-01-01 00:00:00+00' + random() * interval '250 years' AS at FROM generate_series(1, 400)
    UNION ALL SELECT date_trunc('second', timestamptz '2026-06-01 12:00:00+00' + random() * interval '1 day') FROM generate_series(1, 50)
    UNION ALL SELECT timestamptz '2026-06-01 12:00:00.5+00' + n * interval '1 microsecond' * 111 FROM generate_series(1, 20) n
    UNION ALL SELECT v::timestamptz FROM (VALUES ('0099-06-01 12:34:56.789+00'), ('0005-01-01 00:00:00+00'), ('0044-03-15 12:00:00+00 BC'), ('12345-01-01 00:00:00+00')) AS e(v);`;

async function readBack(driver: Driver, zone: string): Promise<Array<{ at: Date; wall: Date; ms: string; wallMs: string }>> {
  const conn = await driver.acquire();
  try {
    await conn.query(`SET TIME ZONE '${zone}'`);
    return (
      await conn.query<{ at: Date; wall: Date; ms: string; wallMs: string }>(
        `SELECT at, at::timestamp AS wall, floor(extract(epoch FROM at) * 1000)::bigint::text AS ms,
                floor(extract(epoch FROM at::timestamp) * 1000)::bigint::text AS "wallMs" FROM moments`,
      )
    ).rows;
  } finally {
    conn.release();
  }
}

for (const dialect of ["pglite", "postgres"] as const) {
  const skip = dialect === "postgres" && !postgresUp;
  if (skip) console.warn("[retort tests] NOTICE: Postgres is not reachable; the timestamp-parsing cases on the server are SKIPPED.");
  describe.skipIf(skip)(`timestamps read on ${dialect}`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await openBackend(dialect);
      const conn = await backend.driver.acquire();
      try {
        // One session: setseed() makes random() repeat in it.
        for (const statement of SAMPLE.split(";").map((s) => s.trim()).filter(Boolean)) await conn.query(statement);
      } finally {
        conn.release();
      }
    });
    afterAll(() => backend.close());

    for (const zone of ZONES) {
      it(`equal the server's epoch in every row, session time zone ${zone}`, async () => {
        const rows = await readBack(backend.driver, zone);
        expect(rows.length).toBe(474);
        const wrong = rows.filter((row) => row.at.getTime() !== Number(row.ms) || row.wall.getTime() !== Number(row.wallMs));
        expect(wrong.map((row) => ({ at: row.at.toISOString(), ms: row.ms, wall: row.wall.getTime(), wallMs: row.wallMs }))).toEqual([]);
      });
    }
  });
}
