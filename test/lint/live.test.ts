/**
 * `lint --url` on the local Postgres: findings graded by the size of their table (1M rows against
 * an empty one), budgets, the pending revisions, a validated NOT NULL check read from the
 * database, transactions open for long, and files edited after they were applied.
 */
import { appendFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintProject } from "../../src/lint/project.js";
import { upgrade } from "../../src/runtime/api.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { query } from "../runtime/project.js";
import { lintFixture, runtimeHistory, type LintFixture } from "./support.js";

const TABLES = `op.createTable("big", { id: t.bigint().primaryKey(), payload: t.text(), flag: t.text().nullable() });
op.createTable("empty", { id: t.bigint().primaryKey(), payload: t.text(), flag: t.text().nullable() });`;
const TIMEOUT = `op.execute("SET lock_timeout = '5s'");\nop.execute("SET statement_timeout = '10min'");\n`;
const ROWS = 1_000_000;

describe("lint --url", () => {
  let db: TempDatabase | undefined;
  let fixture: LintFixture;
  let tablesFile: string;

  beforeAll(async () => {
    if (!(await postgresReachable())) return;
    db = await createTempDatabase("retort_lint_live");
    fixture = lintFixture({ budgets: { accessExclusiveRows: 100_000 } });
    tablesFile = fixture.add({ id: "tables", up: TABLES, down: `op.dropTable("big");\nop.dropTable("empty");` });
    await upgrade("head", { config: fixture.config, url: db.url });
    await query(db.url, `INSERT INTO big (id, payload) SELECT g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
    await query(db.url, "ANALYZE big; ANALYZE empty");
    // A validated NOT NULL check made outside the migrations (by hand, say).
    await query(db.url, "ALTER TABLE big ADD CONSTRAINT big_payload_present CHECK (payload IS NOT NULL)");
    fixture.add({
      id: "pending",
      up: `${TIMEOUT}op.createIndex("ix_big_payload", "big", ["payload"]);
op.createIndex("ix_empty_payload", "empty", ["payload"]);
op.addCheck("ck_big_flag", "big", "flag <> ''");
op.addCheck("ck_empty_flag", "empty", "flag <> ''");
op.alterColumn("big", "payload", { nullable: false });
op.alterColumn("empty", "payload", { nullable: false });
op.renameColumn("empty", "flag", "marker");
op.execute("REINDEX INDEX pk_big");`,
      down: `op.execute("SELECT 1");`,
    });
  }, 120_000);
  afterAll(async () => db?.drop());

  it("grades each finding by its table: 1M rows against an empty table", async (context) => {
    if (!db) return context.skip();
    const report = await fixture.lint({ url: db.url, history: runtimeHistory });
    expect(report.revisions).toEqual(["pending"]);
    expect(report.database).toEqual({ url: db.url, serverVersion: expect.any(Number), pending: true });
    const byTable = (rule: string, table: string) => report.findings.find((f) => f.rule === rule && f.table === table)!;

    const bigIndex = byTable("require-concurrent-index-creation", "big");
    expect(bigIndex.severity).toBe("error");
    expect(bigIndex.impact).toMatchObject({ table: "big", lock: "SHARE", blocks: "writes", work: "index-build", grade: "large", rowsEstimated: "statistics" });
    expect(bigIndex.impact!.rows).toBeGreaterThan(ROWS * 0.9);
    expect(bigIndex.impact!.rows).toBeLessThan(ROWS * 1.1);
    expect(bigIndex.impact!.tableBytes).toBeGreaterThan(30 * 1024 * 1024);
    expect(bigIndex.impact!.estimatedSeconds).toBeGreaterThan(0.5);
    // Within budget: SHARE is not ACCESS EXCLUSIVE.
    expect(bigIndex.budget).toBeUndefined();

    const emptyIndex = byTable("require-concurrent-index-creation", "empty");
    expect(emptyIndex.severity).toBe("info");
    expect(emptyIndex.impact).toMatchObject({ table: "empty", rows: 0, rowsTouched: 0, grade: "empty" });

    // ACCESS EXCLUSIVE held over a scan of 1M rows: over the 100k budget.
    const bigCheck = byTable("constraint-missing-not-valid", "big");
    expect(bigCheck.severity).toBe("error");
    expect(bigCheck.budget).toBe(`budget accessExclusiveRows (100,000) exceeded: ACCESS EXCLUSIVE held over ${bigCheck.impact!.rowsTouched.toLocaleString("en-US")} rows`);
    expect(bigCheck.impact).toMatchObject({ lock: "ACCESS EXCLUSIVE", blocks: "reads and writes", work: "scan" });
    const emptyCheck = byTable("constraint-missing-not-valid", "empty");
    expect(emptyCheck.severity).toBe("info");
    expect(emptyCheck.budget).toBeUndefined();

    // The validated CHECK (payload IS NOT NULL) in the database makes SET NOT NULL on big safe; empty has none.
    expect(report.findings.filter((f) => f.rule === "adding-not-nullable-field").map((f) => f.table)).toEqual(["empty"]);
    // REINDEX names an index only: the database says whose it is.
    expect(report.findings.find((f) => f.rule === "require-concurrent-reindex")).toMatchObject({ table: "big", severity: "error", impact: { table: "big", lock: "SHARE", grade: "large" } });
    // Renaming breaks the running app whatever the size: not graded down.
    expect(byTable("renaming-column", "empty").severity).toBe("error");
    expect(report.errors).toBe(4);
  });

  it("without --url the same findings are not graded", async (context) => {
    if (!db) return context.skip();
    const report = await fixture.lint({ range: "pending" });
    expect(report.findings.every((f) => f.impact === undefined)).toBe(true);
    expect(report.findings.filter((f) => f.rule === "require-concurrent-index-creation").map((f) => f.severity)).toEqual(["error", "error"]);
    expect(report.findings.filter((f) => f.rule === "adding-not-nullable-field").map((f) => f.table)).toEqual(["big", "empty"]);
  });

  it("reports transactions open for long, which the migration's locks would queue behind", async (context) => {
    if (!db) return context.skip();
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT count(*) FROM empty");
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const config = { ...fixture.config, config: { ...fixture.config.config, lint: { longTransactionSeconds: 1 } } };
      const report = await lintProject({ config, url: db.url, history: runtimeHistory });
      const open = report.findings.filter((f) => f.rule === "long-running-transaction");
      expect(open).toHaveLength(1);
      expect(open[0]!.message).toMatch(/^1 transaction\(s\) are open for long: pid \d+ open \d+ s \(idle in transaction: SELECT count\(\*\) FROM empty\)/);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  });

  it("on a database never migrated every revision is pending, and the tables they create are new", async (context) => {
    if (!db) return context.skip();
    const fresh = await createTempDatabase("retort_lint_fresh");
    try {
      const report = await fixture.lint({ url: fresh.url, history: runtimeHistory });
      expect(report.revisions).toEqual(["tables", "pending"]);
      expect(report.database?.pending).toBe(true);
      // big and empty are created by the pending "tables": no app uses them yet, nothing done to them is flagged.
      expect(report.findings).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });

  it("reports an applied migration whose file was edited since", async (context) => {
    if (!db) return context.skip();
    appendFileSync(tablesFile, "// an edit after it ran\n");
    const report = await fixture.lint({ url: db.url, history: runtimeHistory });
    const edited = report.findings.filter((f) => f.rule === "edited-after-applied");
    expect(edited).toHaveLength(1);
    expect(edited[0]).toMatchObject({ revision: "tables", severity: "error" });
    expect(edited[0]!.message).toMatch(/_tables\.ts changed after revision tables was applied to the database$/);
  });
});
