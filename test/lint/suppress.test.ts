/** Suppressions in migration files (with and without a reason, unused, per file) and rule levels in the config. */
import { describe, expect, it } from "vitest";
import type { RetortError } from "../../src/errors.js";
import { lintProject } from "../../src/lint/project.js";
import { lintFixture } from "./support.js";

const DEPLOYED = `op.createTable("users", { id: t.bigint().identity().primaryKey(), email: t.text(), legacy_flag: t.boolean().nullable() });`;
const TIMEOUT = `op.execute("SET lock_timeout = '5s'");\nop.execute("SET statement_timeout = '1min'");\n`;
const DOWN = `op.execute("SELECT 1");`;

function project(up: string, settings?: Parameters<typeof lintFixture>[0]) {
  const fixture = lintFixture(settings);
  fixture.add({ id: "deployed", up: DEPLOYED, down: `op.dropTable("users");` });
  fixture.add({ id: "change", up, down: DOWN });
  return fixture;
}

const summary = (findings: { rule: string; severity: string; line?: number }[]) => findings.map((f) => `${f.rule} ${f.severity} ${f.line ?? "-"}`);

describe("suppressions", () => {
  it("a suppression with a reason on the line above the op hides the finding", async () => {
    const fixture = project(`${TIMEOUT}// retort-lint-disable ban-drop-column: the app stopped reading legacy_flag in release 42\nop.dropColumn("users", "legacy_flag");`);
    const report = await fixture.lint({ range: "change" });
    expect(report.findings).toEqual([]);
  });

  it("it covers the op below its comment block, and a finding inside a multi-line op.execute", async () => {
    const fixture = project(`${TIMEOUT}// retort-lint-disable require-concurrent-index-creation: users is a 40-row admin table\n// (reviewed with the DBA)\nop.execute(\`\n  UPDATE users SET email = lower(email);\n  CREATE INDEX ix_users_email ON users (email);\n\`);`);
    const report = await fixture.lint({ range: "change" });
    expect(report.findings).toEqual([]);
  });

  it("without a reason it suppresses nothing and is an error itself", async () => {
    const fixture = project(`${TIMEOUT}// retort-lint-disable ban-drop-column\nop.dropColumn("users", "legacy_flag");`);
    const report = await fixture.lint({ range: "change" });
    // Lines: 10 upgrade(op) {, 11-12 SET, 13 the comment, 14 the drop.
    expect(summary(report.findings)).toEqual(["ban-drop-column error 14", "suppression-without-reason error 13"]);
    expect(report.findings[1]!.message).toBe("the suppression of ban-drop-column gives no reason (write `: <reason>` after the rule)");
    expect(report.errors).toBe(2);
  });

  it("an empty reason counts as none", async () => {
    const fixture = project(`${TIMEOUT}// retort-lint-disable ban-drop-column:   \nop.dropColumn("users", "legacy_flag");`);
    const report = await fixture.lint({ range: "change" });
    expect(summary(report.findings)).toEqual(["ban-drop-column error 14", "suppression-without-reason error 13"]);
  });

  it("a suppression that matches nothing is reported as unused, and one naming no rule says so", async () => {
    const fixture = project(`${TIMEOUT}// retort-lint-disable ban-drop-table: not dropping a table here\nop.addColumn("users", "nickname", t.text().nullable());\n// retort-lint-disable no-such-rule: typo\nop.addColumn("users", "bio", t.text().nullable());`);
    const report = await fixture.lint({ range: "change" });
    expect(summary(report.findings)).toEqual(["unused-suppression warning 13", "unused-suppression warning 15"]);
    expect(report.findings.map((f) => f.message)).toEqual(["the suppression of ban-drop-table matches no finding on line 14", "the suppression names no-such-rule, which is no lint rule"]);
  });

  it("a suppression covers only the op right below it", async () => {
    const fixture = project(`${TIMEOUT}// retort-lint-disable ban-drop-column: legacy_flag is unused since release 42\nop.addColumn("users", "nickname", t.text().nullable());\nop.dropColumn("users", "legacy_flag");`);
    const report = await fixture.lint({ range: "change" });
    expect(summary(report.findings)).toEqual(["ban-drop-column error 15", "unused-suppression warning 13"]);
  });

  it("a file suppression covers every finding of its rules in the file", async () => {
    const fixture = project(`// retort-lint-disable-file ban-drop-column, renaming-column: users is only read by the admin job, redeployed first\n${TIMEOUT}op.dropColumn("users", "legacy_flag");\nop.renameColumn("users", "email", "login");`);
    const report = await fixture.lint({ range: "change" });
    expect(report.findings).toEqual([]);
  });

  it("with migrations.transaction \"all\" a CONCURRENTLY op is an error: the run cannot leave its transaction", async () => {
    const up = `${TIMEOUT}op.createIndex("ix_users_email", "users", ["email"], { concurrently: true });`;
    expect((await project(up).lint({ range: "change" })).findings).toEqual([]);
    const fixture = project(up);
    const whole = { ...fixture.config, config: { ...fixture.config.config, migrations: { ...fixture.config.config.migrations, transaction: "all" as const } } };
    const report = await lintProject({ config: whole, range: "change" });
    expect(summary(report.findings)).toEqual(["ban-concurrent-index-creation-in-transaction error 13"]);
  });

  it("with migrations.linear, a second head stops the lint (RETORT_NOT_LINEAR)", async () => {
    const fixture = project(`op.execute("SELECT 1");`);
    fixture.add({ id: "other", parents: ["deployed"], up: `op.execute("SELECT 2");`, down: DOWN });
    expect((await fixture.lint()).files).toBe(3);
    const linear = { ...fixture.config, config: { ...fixture.config.config, migrations: { ...fixture.config.config.migrations, linear: true } } };
    const error = await lintProject({ config: linear }).then(
      () => undefined,
      (e: unknown) => e as RetortError,
    );
    expect(error?.code).toBe("RETORT_NOT_LINEAR");
    expect(error?.message).toMatch(/^migrations\.linear is set and lint finds 2 heads: /);
  });

  it("the config turns a rule off, or changes its severity", async () => {
    const up = `op.createTable("notes", { id: t.bigint().identity().primaryKey(), title: t.varchar(80), at: t.timestamp() });`;
    const defaults = await project(up).lint({ range: "change" });
    expect(summary(defaults.findings)).toEqual(["prefer-text-field warning 11", "prefer-timestamptz warning 11"]);
    const configured = await project(up, { rules: { "prefer-text-field": "off", "prefer-timestamptz": "error" } }).lint({ range: "change" });
    expect(summary(configured.findings)).toEqual(["prefer-timestamptz error 11"]);
    expect(configured.errors).toBe(1);
  });

  it("a rule id the config misspells is a config error with the closest id, not a rule left on without a word", async () => {
    const up = `op.createTable("notes", { id: t.bigint().identity().primaryKey(), title: t.varchar(80) });`;
    const error = await project(up, { rules: { "prefer-text-feild": "off" } })
      .lint({ range: "change" })
      .then(() => undefined, (thrown: RetortError) => thrown);
    expect(error?.code).toBe("RETORT_CONFIG");
    expect(error?.message).toBe(`lint.rules in the config names no lint rule: "prefer-text-feild" (did you mean "prefer-text-field"?).`);
  });
});
