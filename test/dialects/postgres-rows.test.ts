/**
 * Rows of named statements (the controllers' path) come back as arrays and are built into objects
 * by a literal per column list (src/dialects/postgres/driver.ts): the objects must be exactly what
 * pg would give for any column names, and what an unnamed statement gives.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresDriver } from "../../src/dialects/postgres/driver.js";
import { createTempDatabase } from "../support/postgres.js";
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

  it("run through the pool and through a held connection alike, and a failing one frees its connection", async () => {
    const temp = await createTempDatabase("retort_rows");
    // One connection: a client a failed statement kept would stall every later query.
    const driver = createPostgresDriver(temp.url, { schema: { tables: [], enums: [] }, poolSize: 1, connectTimeoutMs: 5_000 });
    try {
      await driver.query(`CREATE TABLE t (id bigint PRIMARY KEY, at timestamptz NOT NULL, tags text[])`);
      const insert = `INSERT INTO t (id, at, tags) VALUES ($1, $2, $3) RETURNING id, at, tags`;
      const fromPool = await driver.query(insert, ["1", "2026-01-02T03:04:05.678Z", ["a", "b"]], "rows_insert");
      expect(fromPool.rows).toEqual([{ id: 1n, at: new Date("2026-01-02T03:04:05.678Z"), tags: ["a", "b"] }]);
      expect(fromPool.rowCount).toBe(1);
      for (let round = 0; round < 3; round++) {
        const failed = await driver.query(insert, ["1", "2026-01-02T00:00:00Z", null], "rows_insert").catch((error: unknown) => error);
        expect((failed as { code?: string }).code).toBe("23505");
      }
      const conn = await driver.acquire();
      try {
        const held = await conn.query(insert, ["2", "2026-01-02T00:00:00Z", null], "rows_insert");
        expect(held.rows).toEqual([{ id: 2n, at: new Date("2026-01-02T00:00:00Z"), tags: null }]);
        const failed = await conn.query(insert, ["2", "2026-01-02T00:00:00Z", null], "rows_insert").catch((error: unknown) => error);
        expect((failed as { code?: string }).code).toBe("23505");
        expect((await conn.query(`SELECT count(*)::int AS n FROM t`, [], "rows_count")).rows).toEqual([{ n: 2 }]);
      } finally {
        conn.release();
      }
      expect((await driver.query(`SELECT id FROM t ORDER BY id`, [], "rows_ids")).rows).toEqual([{ id: 1n }, { id: 2n }]);
    } finally {
      await driver.close();
      await temp.drop();
    }
  });
});
