/**
 * readAppliedChecksums: the checksum a revision's file had when it last ran upward (or was last
 * rehashed), picked per engine with its own cheapest SQL (src/runtime/status.ts). The history
 * rows are written by hand here so every case is present at once: runs down, failed runs, a
 * rehash, an upgrade again after a downgrade. Then the unfinished runs `current` shows and a rerun
 * resumes, from rows that a later run superseded or did not.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ADDED_HISTORY_COLUMNS, createVersionTablesSql, HISTORY_TABLE } from "../../src/runtime/version-table.js";
import { readAppliedChecksumDigest, readAppliedChecksums, readVersionState } from "../../src/runtime/status.js";
import { MigrationExecutor } from "../../src/runtime/executor.js";
import { openDigestMemo } from "../../src/runtime/digest-memo.js";
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

  // The memo of digests by history fingerprint (a no-op skips the digest for a history seen
  // before): it must answer for exactly the same rows, and miss after any change that could move
  // the checksum list. A wrong digest is planted under the real fingerprint, so every answer
  // shows whether the memo was used.
  for (const dialect of ["sqlite", "pglite", "postgres"] as const) {
    it.skipIf(dialect === "postgres" && !postgresUp)(`the digest memo answers for the same history rows only (${dialect})`, async () => {
      const backend = await openBackend(dialect);
      opened.push(backend);
      const family = familyOf(dialect);
      const bind = (sql: string) => sql.replace(/\$\d/g, (p) => (dialect === "sqlite" ? "?" : p));
      for (const statement of createVersionTablesSql(family)) await backend.driver.query(statement);
      for (const [revision, direction, checksum, outcome] of rows) {
        await backend.driver.query(bind(`INSERT INTO ${HISTORY_TABLE} (revision, direction, checksum, started_at, outcome) VALUES ($1, $2, $3, $4, $5)`), [revision, direction, checksum, "2026-01-01T00:00:00Z", outcome]);
      }
      const file = join(mkdtempSync(join(tmpdir(), "retort-digest-memo-")), "history-digests.json");
      const conn = await backend.driver.acquire();
      try {
        const digest = await readAppliedChecksumDigest(conn, family, openDigestMemo(file));
        expect(digest).toBe(checksumListDigest("a a2\nb b2\nc "));
        if (dialect === "sqlite") {
          // SQLite hashes its list at about the cost of any fingerprint: no memo is kept.
          expect(existsSync(file)).toBe(false);
          return;
        }
        const saved = JSON.parse(readFileSync(file, "utf8")) as { entries: Array<[string, string]> };
        expect(saved.entries).toHaveLength(1);
        expect(saved.entries[0]![1]).toBe(digest);
        const planted = openDigestMemo(file);
        planted.remember(saved.entries[0]![0], "planted");
        expect(await readAppliedChecksumDigest(conn, family, openDigestMemo(file))).toBe("planted");
        // Each change below moves the fingerprint, so the real digest of the new rows is computed.
        const changes: Array<[what: string, sql: string, list: string]> = [
          ["a checksum edited in place", `UPDATE ${HISTORY_TABLE} SET checksum = 'b9' WHERE revision = 'b' AND outcome = 'rehashed'`, "a a2\nb b9\nc "],
          ["a run's outcome changed", `UPDATE ${HISTORY_TABLE} SET outcome = 'applied' WHERE revision = 'e'`, "a a2\nb b9\nc \ne e1"],
          ["a row deleted", `DELETE FROM ${HISTORY_TABLE} WHERE revision = 'c'`, "a a2\nb b9\ne e1"],
          ["a row added", `INSERT INTO ${HISTORY_TABLE} (revision, direction, checksum, started_at, outcome) VALUES ('f', 'up', 'f1', '2026-01-01T00:00:00Z', 'applied')`, "a a2\nb b9\ne e1\nf f1"],
          ["two rows' checksums swapped", `UPDATE ${HISTORY_TABLE} SET checksum = CASE revision WHEN 'e' THEN 'f1' ELSE 'e1' END WHERE revision IN ('e', 'f')`, "a a2\nb b9\ne f1\nf e1"],
        ];
        for (const [what, sql, list] of changes) {
          const before = JSON.parse(readFileSync(file, "utf8")) as { entries: Array<[string, string]> };
          for (const [fingerprint] of before.entries) planted.remember(fingerprint, "planted");
          await conn.query(sql);
          expect(await readAppliedChecksumDigest(conn, family, openDigestMemo(file)), what).toBe(checksumListDigest(list));
        }
        // A history table an older Retort made, without the columns added since: read as it is (`current` creates nothing).
        await conn.query(`ALTER TABLE ${HISTORY_TABLE} ${ADDED_HISTORY_COLUMNS.map(([name]) => `DROP COLUMN ${name}`).join(", ")}`);
        expect(await readAppliedChecksumDigest(conn, family, openDigestMemo(file))).toBe(checksumListDigest("a a2\nb b9\ne f1\nf e1"));
      } finally {
        conn.release();
      }
    });
  }

  // How each revision's latest run ended, for `current` and for resuming: only the last row of a
  // revision and direction counts, so a crash or failure that a later run superseded is over.
  const runs: Array<[revision: string, direction: string, outcome: string, stepsDone: number]> = [
    ["p", "up", "running", 2], // killed after two steps…
    ["p", "up", "applied", 3], // …then resumed to the end: nothing unfinished
    ["q", "up", "failed", 1], // failed after a committed step, and nothing since: unfinished
    ["r", "up", "applied", 2],
    ["r", "down", "running", 1], // a downgrade stopped after one step: unfinished (down)
    ["s", "up", "failed", 2], // failed after two steps…
    ["s", "up", "failed", 0], // …then failed again before any step: its latest run committed nothing
    ["t", "up", "running", 0], // running (or killed) before its first step: shown, nothing to resume
  ];

  for (const dialect of ["sqlite", "pglite", "postgres"] as const) {
    it.skipIf(dialect === "postgres" && !postgresUp)(`unfinished runs: the latest row of each revision and direction (${dialect})`, async () => {
      const backend = await openBackend(dialect);
      opened.push(backend);
      const family = familyOf(dialect);
      for (const statement of createVersionTablesSql(family)) await backend.driver.query(statement);
      for (const [revision, direction, outcome, stepsDone] of runs) {
        await backend.driver.query(
          `INSERT INTO ${HISTORY_TABLE} (revision, direction, checksum, started_at, outcome, steps_done) VALUES ($1, $2, 'x', '2026-01-01T00:00:00Z', $3, $4)`.replace(/\$\d/g, (p) => (dialect === "sqlite" ? "?" : p)),
          [revision, direction, outcome, stepsDone],
        );
      }
      const conn = await backend.driver.acquire();
      try {
        const state = await readVersionState(conn, family);
        expect(state.unfinished.map((row) => [row.revision, row.direction, row.outcome, row.stepsDone])).toEqual([
          ["q", "up", "failed", 1],
          ["r", "down", "running", 1],
          ["t", "up", "running", 0],
        ]);
        // What a rerun resumes after: runs that committed steps.
        const resume = await new MigrationExecutor(backend.driver, conn, family).unfinished();
        expect(Object.fromEntries(resume)).toEqual({ "q:up": 1, "r:down": 1 });
      } finally {
        conn.release();
      }
    });
  }
});
