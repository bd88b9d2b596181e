/**
 * What safe autogenerate writes for tables that already exist lints clean (no error, no warning),
 * and the plain form of the same changes (autogenerate.safe: false) is what the linter flags.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/env/config.js";
import { autogenerate } from "../../src/runtime/schema-commands.js";
import { SOURCE_INDEX } from "../runtime/project.js";
import { lintFixture } from "./support.js";

const models = (body: string) => `import { t, table, index } from ${JSON.stringify(SOURCE_INDEX)};\n${body}\n`;

const BEFORE = `export const customers = table("customers", { id: t.bigint().identity().primaryKey(), email: t.text() });
export const orders = table("orders", { id: t.bigint().identity().primaryKey(), customerId: t.bigint(), note: t.text().nullable() });`;

// An index, a foreign key, a check, a unique constraint and a NOT NULL on tables that exist.
const AFTER = `export const customers = table("customers", { id: t.bigint().identity().primaryKey(), email: t.text().unique() });
export const orders = table("orders", {
  id: t.bigint().identity().primaryKey(),
  customerId: t.bigint().references(() => customers.id),
  note: t.text(),
  total: t.bigint().default(0n).check("total >= 0"),
}, (o) => [index(o.note)]);`;

async function generated(safe: boolean) {
  const fixture = lintFixture();
  const schema = join(fixture.root, "schema.ts");
  const config: LoadedConfig = { ...fixture.config, config: { ...fixture.config.config, models: "./schema.ts", ...(safe ? {} : { autogenerate: { safe: false } }) } };
  writeFileSync(schema, models(BEFORE));
  const first = await autogenerate({ message: "tables" }, { config, dialect: "postgres" });
  writeFileSync(schema, models(AFTER));
  const second = await autogenerate({ message: "constraints" }, { config, dialect: "postgres" });
  return { fixture: { ...fixture, config }, first: first.revision!, second: second.revision! };
}

describe("autogenerate and lint", () => {
  it("the safe form of changes to existing tables lints clean", async () => {
    const { fixture, second } = await generated(true);
    const report = await fixture.lint({ range: second });
    expect(report.findings.map((f) => `${f.file}:${f.line ?? ""} ${f.severity} ${f.rule}: ${f.message}`)).toEqual([]);
  }, 60_000);

  it("the plain form of the same changes is flagged", async () => {
    const { fixture, second } = await generated(false);
    const report = await fixture.lint({ range: second });
    const rules = new Set(report.findings.map((f) => f.rule));
    for (const rule of ["require-concurrent-index-creation", "adding-foreign-key-constraint", "constraint-missing-not-valid", "disallowed-unique-constraint", "adding-not-nullable-field", "require-timeout-settings"]) expect(rules).toContain(rule);
    expect(report.errors).toBeGreaterThan(0);
  }, 60_000);

  it("the audit table that an audited model brings lints clean: its types are Retort's, not the project's", async () => {
    const fixture = lintFixture();
    const config: LoadedConfig = { ...fixture.config, config: { ...fixture.config.config, models: "./schema.ts" } };
    writeFileSync(join(fixture.root, "schema.ts"), models(`export const notes = table("notes", { id: t.bigint().identity().primaryKey(), body: t.text() }, { audit: true });`));
    const first = await autogenerate({ message: "notes" }, { config, dialect: "postgres" });
    const report = await { ...fixture, config }.lint({ range: first.revision! });
    expect(report.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`)).toEqual([]);
  }, 60_000);

  it("an expand/contract pair for a table rename lints clean (the view keeps the old app working)", async () => {
    const fixture = lintFixture();
    const config: LoadedConfig = { ...fixture.config, config: { ...fixture.config.config, models: "./schema.ts" } };
    const schema = join(fixture.root, "schema.ts");
    writeFileSync(schema, models(`export const users = table("users", { id: t.bigint().identity().primaryKey(), name: t.text() }, (u) => [index(u.name)]);`));
    await autogenerate({ message: "users" }, { config, dialect: "postgres" });
    writeFileSync(schema, models(`export const members = table("members", { id: t.bigint().identity().primaryKey(), name: t.text() }, (u) => [index(u.name)], { renamedFrom: "users" });`));
    const pair = await autogenerate({ message: "rename users", expandContract: true }, { config, dialect: "postgres" });
    const withConfig = { ...fixture, config };
    for (const revision of [pair.revision!, pair.contract!.revision]) {
      const report = await withConfig.lint({ range: revision });
      expect(report.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`)).toEqual([]);
    }
  }, 60_000);

  it("an expand/contract pair for a column split lints clean (the contract drops only released columns)", async () => {
    const fixture = lintFixture();
    const config: LoadedConfig = { ...fixture.config, config: { ...fixture.config.config, models: "./schema.ts" } };
    const schema = join(fixture.root, "schema.ts");
    writeFileSync(schema, models(`export const users = table("users", { id: t.bigint().identity().primaryKey(), fullName: t.text() }, (u) => [index(u.fullName)]);`));
    await autogenerate({ message: "users" }, { config, dialect: "postgres" });
    writeFileSync(schema, models(`export const users = table("users", { id: t.bigint().identity().primaryKey(), firstName: t.text(), lastName: t.text().nullable() }, (u) => [index(u.lastName)]);`));
    const backfill = { "users.first_name": "split_part(full_name, ' ', 1)", "users.last_name": "nullif(split_part(full_name, ' ', 2), '')", "users.full_name": "concat_ws(' ', first_name, last_name)" };
    const pair = await autogenerate({ message: "split name", expandContract: true, backfill }, { config, dialect: "postgres" });
    const withConfig = { ...fixture, config };
    for (const revision of [pair.revision!, pair.contract!.revision]) {
      const report = await withConfig.lint({ range: revision });
      expect(report.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`)).toEqual([]);
    }
  }, 60_000);
});
