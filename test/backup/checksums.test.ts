/**
 * Per-table checksums: equal for equal data, different when one value changes, also past a
 * chunk boundary of the Postgres checksum, in a column named like the row, in a table without a
 * key holding duplicates, and (SQLite) between values that differ only in storage class.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { CHECKSUM_CHUNK_ROWS, POSTGRES_CHECKSUM_SETTINGS, postgresChecksums, sqliteChecksums } from "../../src/backup/checksums.js";
import { connect } from "../../src/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";

const postgresUp = await postgresReachable();
let temp: TempDatabase | undefined;
afterAll(async () => temp?.drop());

describe.runIf(postgresUp)("Postgres checksums", () => {
  it("see one changed value anywhere, past chunk boundaries, in any column, and duplicates in a keyless table", async () => {
    temp = await createTempDatabase("retort_checksums");
    const db = await connect(temp.url);
    try {
      const big = CHECKSUM_CHUNK_ROWS * 2 + 17;
      await db.query(`CREATE TABLE big (id integer PRIMARY KEY, v text); INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, ${big}) g`);
      await db.query("CREATE TABLE shadow (id integer PRIMARY KEY, t text, _retort_row text, other text); INSERT INTO shadow VALUES (1, 'a', 'b', 'c')");
      await db.query("CREATE TABLE keyless (a integer, b text); INSERT INTO keyless VALUES (1, 'x'), (1, 'x'), (2, 'y')");
      const sums = async () => {
        const conn = await db.driver.acquire();
        try {
          for (const statement of POSTGRES_CHECKSUM_SETTINGS) await conn.query(statement);
          return Object.fromEntries((await postgresChecksums(conn)).map((t) => [t.table, t]));
        } finally {
          conn.release();
        }
      };
      const before = await sums();
      expect(before["public.big"]!.rows).toBe(big);
      expect(await sums()).toEqual(before);

      await db.query(`UPDATE big SET v = 'changed' WHERE id = ${CHECKSUM_CHUNK_ROWS * 2 + 5}`); // in the third chunk
      await db.query("UPDATE shadow SET other = 'd'");
      await db.query("DELETE FROM keyless WHERE ctid = (SELECT min(ctid) FROM keyless WHERE a = 1)");
      const after = await sums();
      expect(after["public.big"]).toMatchObject({ rows: big, checksum: expect.not.stringMatching(before["public.big"]!.checksum) });
      expect(after["public.shadow"]!.checksum).not.toBe(before["public.shadow"]!.checksum);
      expect(after["public.keyless"]).toMatchObject({ rows: 2 });
      expect(after["public.keyless"]!.checksum).not.toBe(before["public.keyless"]!.checksum);

      await db.query(`UPDATE big SET v = 'v' || id WHERE id = ${CHECKSUM_CHUNK_ROWS * 2 + 5}`);
      expect((await sums())["public.big"]).toEqual(before["public.big"]);
    } finally {
      await db.close();
    }
  });
});

describe("SQLite checksums", () => {
  it("tell 1, 1.0, '1' and x'31' apart, and see duplicates in a table without a key", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "retort-sum-")), "a.db");
    const db = new Sqlite(file);
    db.exec("CREATE TABLE v (id integer PRIMARY KEY, x); CREATE TABLE keyless (a, b); INSERT INTO keyless VALUES (1, 'x'), (1, 'x')");
    const sumOf = async (value: string) => {
      db.exec(`DELETE FROM v; INSERT INTO v VALUES (1, ${value})`);
      return (await sqliteChecksums(file)).find((t) => t.table === "v")!.checksum;
    };
    const sums = [await sumOf("1"), await sumOf("1.5"), await sumOf("'1'"), await sumOf("x'31'"), await sumOf("NULL")];
    expect(new Set(sums).size).toBe(5);
    expect(await sumOf("1")).toBe(sums[0]);
    const before = (await sqliteChecksums(file)).find((t) => t.table === "keyless")!;
    db.exec("DELETE FROM keyless WHERE rowid = 1");
    const after = (await sqliteChecksums(file)).find((t) => t.table === "keyless")!;
    expect([before.rows, after.rows]).toEqual([2, 1]);
    expect(after.checksum).not.toBe(before.checksum);
    db.close();
  });
});
