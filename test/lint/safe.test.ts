/**
 * The false-positive check: a realistic history of 46 safe migrations lints clean, judged each on
 * its own (tables of earlier revisions exist) and as one range; and it runs on Postgres.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upgrade } from "../../src/runtime/api.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import { query } from "../runtime/project.js";
import { SAFE_CORPUS } from "./safe-corpus.js";
import { lintFixture, type LintFixture } from "./support.js";

const describeFindings = (findings: { rule: string; file: string; line?: number; message: string }[]) => findings.map((f) => `${f.file}:${f.line ?? ""} ${f.rule}: ${f.message}`).join("\n");

describe("safe migrations", () => {
  let fixture: LintFixture;
  beforeAll(() => {
    fixture = lintFixture();
    for (const migration of SAFE_CORPUS) fixture.add({ ...migration, ...(migration.transactional === false ? { transactional: false } : {}) });
  });

  it("the corpus is large enough to mean something", () => {
    expect(SAFE_CORPUS.length).toBeGreaterThanOrEqual(40);
  });

  it("every revision, each on its own, has no finding", async () => {
    const report = await fixture.lint();
    expect(report.files).toBe(SAFE_CORPUS.length);
    expect(describeFindings(report.findings)).toBe("");
  });

  it("the whole history as one range has no finding either", async () => {
    const report = await fixture.lint({ range: "base:head" });
    expect(report.revisions).toHaveLength(SAFE_CORPUS.length);
    expect(describeFindings(report.findings)).toBe("");
  });

  it("a table created earlier in an explicit range is new there, and existing when a later revision is linted alone", async () => {
    const project = lintFixture();
    project.add({ id: "first", up: `op.createTable("labels", { id: t.bigint().identity().primaryKey(), name: t.text() });`, down: `op.dropTable("labels");` });
    project.add({ id: "second", up: `op.createIndex("ix_labels_name", "labels", ["name"]);\nop.addColumn("labels", "color", t.text());`, down: `op.dropTable("labels");` });
    const together = await project.lint({ range: "base:second" });
    expect(together.revisions).toEqual(["first", "second"]);
    expect(describeFindings(together.findings)).toBe("");
    const alone = await project.lint({ range: "second" });
    expect(alone.findings.map((f) => f.rule).sort()).toEqual(["adding-required-field", "require-concurrent-index-creation", "require-timeout-settings"]);
    // `first:second` is what second adds to first: first is deployed, so labels exists.
    const after = await project.lint({ range: "first:second" });
    expect(after.revisions).toEqual(["second"]);
    expect(after.findings.map((f) => f.rule).sort()).toEqual(["adding-required-field", "require-concurrent-index-creation", "require-timeout-settings"]);
    // Every revision on its own (the default): the same.
    expect((await project.lint()).findings.map((f) => f.rule).sort()).toEqual(["adding-required-field", "require-concurrent-index-creation", "require-timeout-settings"]);
  });

  it("raw SQL the rules have nothing to say about raises nothing", async () => {
    const project = lintFixture();
    project.add({ id: "first", up: `op.createTable("labels", { id: t.bigint().identity().primaryKey(), name: t.text() });`, down: `op.dropTable("labels");` });
    project.add({
      id: "second",
      up: `op.execute(\`
CREATE VIEW label_names AS SELECT id, name FROM labels;
ALTER VIEW label_names RENAME COLUMN name TO label;
CREATE SEQUENCE label_numbers;
ALTER SEQUENCE label_numbers RESTART WITH 100;
GRANT SELECT ON labels TO PUBLIC;
COMMENT ON TABLE labels IS 'tags shown in the UI';
DO $$ BEGIN RAISE NOTICE 'hello'; END $$;
INSERT INTO labels (name) VALUES ('red') ON CONFLICT DO NOTHING;
WITH gone AS (DELETE FROM labels WHERE name = '' RETURNING id) SELECT count(*) FROM gone;
ANALYZE labels;
\`);`,
      down: `op.execute("DROP VIEW label_names; DROP SEQUENCE label_numbers");`,
    });
    const report = await project.lint({ range: "second" });
    expect(describeFindings(report.findings)).toBe("");
  });

  it("an enum created in the same migration can be changed freely", async () => {
    const project = lintFixture();
    project.add({ id: "only", up: `op.createEnum("mood", ["ok", "sad"]);\nop.renameEnumValue("mood", "sad", "blue");\nop.addEnumValue("mood", "great");`, down: `op.dropEnum("mood");` });
    expect(describeFindings((await project.lint()).findings)).toBe("");
  });

  it("a revision that declares lockTimeout needs no SET lock_timeout", async () => {
    const project = lintFixture();
    project.add({ id: "first", up: `op.createTable("labels", { id: t.bigint().identity().primaryKey(), name: t.text() });`, down: `op.dropTable("labels");` });
    const file = project.add({ id: "second", up: `op.addColumn("labels", "color", t.text().nullable());`, down: `op.dropColumn("labels", "color");` });
    expect((await project.lint({ range: "second" })).findings.map((f) => f.rule)).toEqual(["require-timeout-settings"]);
    writeFileSync(file, readFileSync(file, "utf8").replace("  async upgrade(op) {", '  lockTimeout: "5s",\n\n  async upgrade(op) {'));
    const declared = lintFixture();
    declared.add({ id: "first", up: `op.createTable("labels", { id: t.bigint().identity().primaryKey(), name: t.text() });`, down: `op.dropTable("labels");` });
    const copy = declared.add({ id: "second", up: "", down: "" });
    writeFileSync(copy, readFileSync(file, "utf8"));
    expect((await declared.lint({ range: "second" })).findings).toEqual([]);
  });

  describe("on Postgres", () => {
    let db: TempDatabase | undefined;
    beforeAll(async () => {
      if (await postgresReachable()) db = await createTempDatabase("retort_lint_safe");
    });
    afterAll(async () => db?.drop());

    it("runs to head: the safe forms are real Postgres", async (context) => {
      if (!db) return context.skip();
      const result = await upgrade("head", { config: fixture.config, url: db.url });
      expect(result.revisions).toHaveLength(SAFE_CORPUS.length);
      const constraints = await query(db.url, "SELECT conname, convalidated FROM pg_constraint WHERE conname IN ('fk_customers_referrer_id_customers', 'ck_orders_total_positive', 'uq_products_slug', 'fk_addresses_country', 'ck_products_price') ORDER BY conname");
      expect(constraints).toEqual([
        { conname: "ck_orders_total_positive", convalidated: true },
        { conname: "ck_products_price", convalidated: true },
        { conname: "fk_addresses_country", convalidated: true },
        { conname: "fk_customers_referrer_id_customers", convalidated: true },
        { conname: "uq_products_slug", convalidated: true },
      ]);
      const [name] = await query(db.url, "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'name'");
      expect(name).toEqual({ is_nullable: "NO" });
    });
  });
});
