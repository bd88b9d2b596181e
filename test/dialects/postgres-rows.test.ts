/**
 * Rows of named statements (the controllers' path) come back as arrays and are built into objects
 * by a literal per column list (src/dialects/postgres/driver.ts): the objects must be exactly what
 * pg would give for any column names, and what an unnamed statement gives.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openBackend, postgresUp, type Backend } from "../operations/support.js";

describe.skipIf(!postgresUp)("Postgres rows of named statements", () => {
  let backend: Backend | undefined;
  afterAll(() => backend?.close());

  it("are plain objects with every column as an own key, whatever the names, as unnamed statements give them", async () => {
    backend = await openBackend("postgres");
    const conn = await backend.driver.acquire();
    try {
      const sql = `SELECT 1 AS "__proto__", 2 AS "constructor", 'x' AS "we""ird
name", NULL AS "a", 3 AS "a", 9007199254740993::bigint AS "big" FROM generate_series(1, 2)`;
      const named = (await conn.query<Record<string, unknown>>(sql, [], "rows_weird_names")).rows;
      const unnamed = (await conn.query<Record<string, unknown>>(sql)).rows;
      expect(named).toHaveLength(2);
      for (const row of named) {
        expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
        expect(Object.keys(row)).toEqual(["__proto__", "constructor", 'we"ird\nname', "a", "big"]);
        expect(Object.getOwnPropertyDescriptor(row, "__proto__")?.value).toBe(1);
        expect(row.constructor).toBe(2);
        expect(row['we"ird\nname']).toBe("x");
        expect(row.a).toBe(3); // a later duplicate wins, as in pg
        expect(row.big).toBe(9007199254740993n);
      }
      expect(named.map((row) => Object.entries(row))).toEqual(unnamed.map((row) => Object.entries(row)));
      // The same statement again (a built row maker is reused) and one with no rows.
      expect((await conn.query<Record<string, unknown>>(sql, [], "rows_weird_names")).rows.map((row) => Object.entries(row))).toEqual(named.map((row) => Object.entries(row)));
      expect((await conn.query(`SELECT 1 AS one WHERE false`, [], "rows_none")).rows).toEqual([]);
    } finally {
      conn.release();
    }
  });
});
