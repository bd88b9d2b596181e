/**
 * readAppliedChecksums: the checksum a revision's file had when it last ran upward (or was last
 * rehashed), picked per engine with its own cheapest SQL (src/runtime/status.ts). The history
 * rows are written by hand here so every case is present at once: runs down, failed runs, a
 * rehash, an upgrade again after a downgrade.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createVersionTablesSql, HISTORY_TABLE } from "../../src/runtime/version-table.js";
import { readAppliedChecksumDigest, readAppliedChecksums } from "../../src/runtime/status.js";
import { checksumListDigest } from "../../src/script/index.js";
import { familyOf } from "../../src/schema/snapshot.js";
import { openBackend, postgresUp, type Backend } from "../operations/support.js";

const rows: Array<[revision: string, direction: string, checksum: string | null, outcome: string]> = [
  ["a", "up", "a1", "applied"],
  ["a", "down", "a1", "applied"],
  ["a", "up", "a2", "applied"], // upgraded again after an edit: the latest applied run counts
  ["a", "up", "a3", "failed"], // a failed run is not what ran
  ["b", "up", "b1", "applied"],
  ["b", "up", "b2", "rehashed"], // an accepted edit
  ["c", "up", null, "applied"], // an old row without a checksum
  ["d", "down", "d1", "applied"], // never applied upward here
  ["e", "up", "e1", "running"],
];

describe("readAppliedChecksums", () => {
  const opened: Backend[] = [];
  afterAll(async () => {
    for (const backend of opened) await backend.close();
  });

  for (const dialect of ["sqlite", "pglite", "postgres"] as const) {
    it.skipIf(dialect === "postgres" && !postgresUp)(`the latest applied or rehashed checksum per revision (${dialect})`, async () => {
      const backend = await openBackend(dialect);
      opened.push(backend);
      const family = familyOf(dialect);
      for (const statement of createVersionTablesSql(family)) await backend.driver.query(statement);
      for (const [revision, direction, checksum, outcome] of rows) {
        await backend.driver.query(`INSERT INTO ${HISTORY_TABLE} (revision, direction, checksum, started_at, outcome) VALUES ($1, $2, $3, $4, $5)`.replace(/\$\d/g, (p) => (dialect === "sqlite" ? "?" : p)), [revision, direction, checksum, "2026-01-01T00:00:00Z", outcome]);
      }
      const conn = await backend.driver.acquire();
      try {
        expect(Object.fromEntries(await readAppliedChecksums(conn, family))).toEqual({ a: "a2", b: "b2", c: "" });
        // The digest of the same list, sorted by revision, as the graph summary computes it (a server hashes it itself).
        expect(await readAppliedChecksumDigest(conn, family)).toBe(checksumListDigest("a a2\nb b2\nc "));
      } finally {
        conn.release();
      }
    });
  }
});
