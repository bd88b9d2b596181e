/**
 * retort doctor on the Postgres server, each situation made for real: a migration lock held by
 * another session, an INVALID index left by a failed concurrent build, an applied file edited, a
 * pending revision, a long transaction; and a clean database has no finding.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { upgrade } from "../../src/index.js";
import { doctor } from "../../src/runtime/doctor.js";
import { ADVISORY_KEY } from "../../src/runtime/lock.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { createProject } from "./project.js";

const exec = promisify(execFile);
const postgresUp = await postgresReachable();

describe.skipIf(!postgresUp)("retort doctor", () => {
  it("finds each problem with its fix, and nothing on a healthy database", async () => {
    const temp = await createTempDatabase();
    const project = createProject();
    const first = project.add({ id: "doc000000001", message: "items", up: `op.createTable("items", { id: t.integer().primaryKey(), code: t.text() });`, down: `op.dropTable("items");` });
    const options = { config: project.config, url: temp.url };
    const other = new pg.Client({ connectionString: temp.url, application_name: "stuck-deploy" });
    const idle = new pg.Client({ connectionString: temp.url, application_name: "forgotten-shell" });
    try {
      await upgrade("head", options);
      const healthy = await doctor(options);
      expect(healthy).toMatchObject({ ok: true, server: expect.stringMatching(/^Postgres \d+/) });
      expect(healthy.findings.filter((f) => f.severity !== "info")).toEqual([]);

      await other.connect();
      await other.query(`SELECT pg_advisory_lock(${ADVISORY_KEY})`);
      await other.query("INSERT INTO items VALUES (1, 'a'), (2, 'a')");
      await other.query("CREATE UNIQUE INDEX CONCURRENTLY ux_items_code ON items (code)").catch(() => undefined);
      await idle.connect();
      await idle.query("BEGIN; SELECT count(*) FROM items");
      appendFileSync(first, "\n// edited after it ran\n");
      project.add({ id: "doc000000002", parents: ["doc000000001"], message: "more", up: `op.addColumn("items", "note", t.text().nullable());` });
      await new Promise((resolve) => setTimeout(resolve, 1200));

      const report = await doctor({ ...options, longTransactionSeconds: 1 });
      expect(report.ok).toBe(false);
      const by = (check: string) => report.findings.filter((f) => f.check === check);
      expect(by("lock")).toEqual([
        expect.objectContaining({ severity: "warning", message: expect.stringMatching(/^the migration lock is held by server backend pid \d+ \(stuck-deploy\)/), fix: expect.stringMatching(/SELECT pg_terminate_backend\(\d+\);/) }),
      ]);
      expect(by("invalid-index")).toEqual([
        expect.objectContaining({ severity: "error", message: expect.stringContaining("index ux_items_code on items is INVALID"), fix: expect.stringContaining('DROP INDEX CONCURRENTLY "ux_items_code"') }),
      ]);
      expect(by("invalid-index")[0]!.fix).toContain("CREATE UNIQUE INDEX CONCURRENTLY ux_items_code ON public.items USING btree (code);");
      expect(by("modified")).toEqual([expect.objectContaining({ severity: "error", message: expect.stringContaining("(doc000000001) changed since it was applied") })]);
      expect(by("pending")).toEqual([expect.objectContaining({ severity: "warning", message: "1 migration(s) not applied: doc000000002", fix: "retort upgrade" })]);
      expect(by("long-transaction")).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringMatching(/^pid \d+ \(forgotten-shell\) has had a transaction open for \d+ s/) })]);

      // The CLI: the same findings, exit 1.
      const config = join(project.root, "retort.config.mjs");
      writeFileSync(config, `export default ${JSON.stringify(project.config.config)};\n`);
      const run = await exec("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", config, "--url", temp.url, "doctor"], { timeout: 120_000 }).then(
        () => ({ code: 0, stdout: "" }),
        (f: { code: number; stdout: string }) => f,
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("error   [invalid-index] index ux_items_code on items is INVALID");
      expect(run.stdout).toContain("fix: retort upgrade");
    } finally {
      await other.end().catch(() => undefined);
      await idle.end().catch(() => undefined);
      await temp.drop();
    }
  }, 180_000);

  it("an unreachable database and a broken config are findings, not crashes", async () => {
    const project = createProject();
    const report = await doctor({ config: project.config, url: "postgres://nobody@127.0.0.1:1/none" });
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([expect.objectContaining({ check: "connection", severity: "error", message: expect.stringContaining("RETORT_CONNECTION_FAILED") })]);
    const broken = await doctor({ config: join(project.root, "missing.config.mjs") });
    expect(broken.findings[0]).toMatchObject({ check: "config", severity: "error" });
  });
});
