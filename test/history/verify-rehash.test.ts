/**
 * retort verify and retort rehash on real databases: an applied file edited, a file deleted, the
 * deliberate edit accepted with a reason (recorded with who and when), and a history table written
 * by an older Retort upgraded in place.
 */
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { connect, current, upgrade } from "../../src/index.js";
import { doctor } from "../../src/runtime/doctor.js";
import { rehash, verify } from "../../src/runtime/verify.js";
import { createProject, failure, query, sqliteFileUrl } from "../runtime/project.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";

const postgresUp = await postgresReachable();

function twoRevisions() {
  const project = createProject();
  const first = project.add({ id: "ver000000001", message: "items", up: `op.createTable("items", { id: t.integer().primaryKey(), code: t.text() });`, down: `op.dropTable("items");` });
  const second = project.add({ id: "ver000000002", parents: ["ver000000001"], message: "notes", up: `op.createTable("notes", { id: t.integer().primaryKey() });`, down: `op.dropTable("notes");` });
  return { project, first, second };
}

describe("retort verify / rehash", () => {
  it("names an edited applied file, and after rehash with a reason, verify, current and upgrade accept it", async () => {
    const { project, first } = twoRevisions();
    const url = sqliteFileUrl();
    const options = { config: project.config, url };
    await upgrade("head", options);
    expect(await verify(options)).toMatchObject({ ok: true, problems: [] });

    appendFileSync(first, "// a comment added after it ran\n");
    const report = await verify(options);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ revision: "ver000000001", problem: "changed", file: first, recorded: expect.stringMatching(/^[0-9a-f]{64}$/), current: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    const warnings: string[] = [];
    await current({ ...options, onWarning: (w) => warnings.push(w) });
    expect(warnings.join("\n")).toContain("ver000000001");
    const refused = await failure(upgrade("head", options));
    expect(refused.code).toBe("RETORT_MODIFIED_MIGRATION");
    expect(refused.hint).toContain('retort rehash ver000000001 --reason "…"');
    const doctorReport = await doctor(options);
    expect(doctorReport.findings.filter((f) => f.check === "modified").map((f) => f.message)).toEqual([`${first} (ver000000001) changed since it was applied`]);

    expect((await failure(rehash("ver000000001", { reason: "  " }, options))).code).toBe("RETORT_USAGE");
    const done = await rehash("ver000000001", { reason: "comment only", actor: "Ada <ada@example.com> os:ada" }, options);
    expect(done).toMatchObject({ revision: "ver000000001", reason: "comment only", actor: "Ada <ada@example.com> os:ada", previous: report.problems[0]!.recorded, checksum: report.problems[0]!.current });
    const rows = await query(url, "SELECT revision, direction, outcome, checksum, reason, actor FROM retort_migrations WHERE revision = 'ver000000001' ORDER BY id");
    expect(rows).toEqual([
      { revision: "ver000000001", direction: "up", outcome: "applied", checksum: report.problems[0]!.recorded, reason: null, actor: null },
      { revision: "ver000000001", direction: "up", outcome: "rehashed", checksum: report.problems[0]!.current, reason: "comment only", actor: "Ada <ada@example.com> os:ada" },
    ]);

    expect(await verify(options)).toMatchObject({ ok: true, problems: [] });
    const after: string[] = [];
    await current({ ...options, onWarning: (w) => after.push(w) });
    expect(after).toEqual([]);
    await upgrade("head", options); // no refusal
    // Nothing left to accept.
    expect((await failure(rehash("ver000000001", { reason: "again" }, options))).message).toContain("has not changed since it was applied");
  });

  it("lists an applied revision whose file is gone; a pending one cannot be rehashed", async () => {
    const { project, second } = twoRevisions();
    const url = sqliteFileUrl();
    const options = { config: project.config, url };
    await upgrade("ver000000001", options);
    appendFileSync(second, "// pending: edits are free\n");
    expect(await verify(options)).toMatchObject({ ok: true });
    expect((await failure(rehash("ver000000002", { reason: "x" }, options))).message).toContain("is not applied to this database");
    await upgrade("head", options);
    rmSync(second);
    const report = await verify(options);
    expect(report.problems).toEqual([{ revision: "ver000000002", problem: "missing", recorded: expect.any(String) }]);
  });

  for (const backend of ["sqlite", "postgres"] as const) {
    it.skipIf(backend === "postgres" && !postgresUp)(`adds reason and actor to a history table an older Retort made, in place (${backend})`, async () => {
      const { project, first } = twoRevisions();
      const temp = backend === "postgres" ? await createTempDatabase() : undefined;
      const url = temp?.url ?? sqliteFileUrl();
      try {
        const db = await connect(url);
        try {
          // The history table as the first releases wrote it: no steps_total, reason or actor.
          const [id, time] = backend === "postgres" ? ["BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "TIMESTAMPTZ"] : ["INTEGER PRIMARY KEY", "TEXT"];
          await db.query("CREATE TABLE retort_version (version_num VARCHAR(64) NOT NULL PRIMARY KEY)");
          await db.query(
            `CREATE TABLE retort_migrations (id ${id}, revision VARCHAR(64) NOT NULL, direction VARCHAR(8) NOT NULL, checksum VARCHAR(64), started_at ${time} NOT NULL, finished_at ${time}, duration_ms INTEGER, outcome VARCHAR(16) NOT NULL, steps_done INTEGER NOT NULL DEFAULT 0, error TEXT)`,
          );
          await db.query("CREATE TABLE items (id INTEGER PRIMARY KEY, code TEXT NOT NULL)");
          await db.query("INSERT INTO retort_version VALUES ('ver000000001')");
          await db.query("INSERT INTO retort_migrations (revision, direction, checksum, started_at, outcome, steps_done) VALUES ('ver000000001', 'up', 'old-checksum', '2026-01-01T00:00:00Z', 'applied', 1)");
        } finally {
          await db.close();
        }
        const options = { config: project.config, url };
        expect((await verify(options)).problems.map((p) => p.revision)).toEqual(["ver000000001"]);
        await rehash("ver000000001", { reason: "adopted from an old checkout" }, options);
        const columns = backend === "postgres"
          ? (await query(url, "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'retort_migrations'")).map((r) => r.name)
          : (await query(url, "SELECT name FROM pragma_table_info('retort_migrations')")).map((r) => r.name);
        expect(columns).toEqual(expect.arrayContaining(["steps_total", "reason", "actor"]));
        const row = (await query(url, "SELECT checksum, actor, reason FROM retort_migrations WHERE outcome = 'rehashed'"))[0]!;
        expect(row.checksum).not.toBe("old-checksum");
        expect(row.reason).toBe("adopted from an old checkout");
        expect(String(row.actor)).toMatch(/\S/);
        expect(await verify(options)).toMatchObject({ ok: true });
        await upgrade("head", options); // the pending revision runs on the upgraded table
        expect(readFileSync(first, "utf8")).toContain("ver000000001");
      } finally {
        await temp?.drop();
      }
    });
  }
});
