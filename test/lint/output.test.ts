/** Output formats (text, GitHub annotations, SARIF) and the `retort lint` command: exit codes, --json, the autogenerate hook. */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { formatGithub, formatRules, formatSarif, formatText } from "../../src/lint/format.js";
import type { ProjectLintReport } from "../../src/lint/project.js";
import { RULES } from "../../src/lint/rules.js";
import { SOURCE_INDEX } from "../runtime/project.js";
import { lintFixture, type LintFixture } from "./support.js";

const exec = promisify(execFile);

const DEPLOYED = `op.createTable("users", { id: t.bigint().identity().primaryKey(), email: t.text() });`;
const CHANGE = `op.createIndex("ix_users_email", "users", ["email"]);\nop.createTable("notes", { id: t.bigint().identity().primaryKey(), title: t.varchar(80) });`;

/** The parts of SARIF 2.1.0 (OASIS) a consumer relies on, as its JSON schema requires them. */
const sarifSchema = z.object({
  version: z.literal("2.1.0"),
  $schema: z.string().url(),
  runs: z
    .array(
      z.object({
        tool: z.object({
          driver: z.object({
            name: z.string().min(1),
            version: z.string(),
            rules: z.array(z.object({ id: z.string(), shortDescription: z.object({ text: z.string().min(1) }), fullDescription: z.object({ text: z.string().min(1) }), defaultConfiguration: z.object({ level: z.enum(["none", "note", "warning", "error"]) }) })),
          }),
        }),
        results: z.array(
          z.object({
            ruleId: z.string(),
            ruleIndex: z.number().int().min(0),
            level: z.enum(["none", "note", "warning", "error"]),
            message: z.object({ text: z.string().min(1) }),
            locations: z.array(z.object({ physicalLocation: z.object({ artifactLocation: z.object({ uri: z.string().min(1) }), region: z.object({ startLine: z.number().int().min(1) }).optional() }) })).min(1),
          }),
        ),
      }),
    )
    .length(1),
});

async function retort(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
  try {
    const { stdout, stderr } = await exec(tsx, [join(process.cwd(), "src/cli/main.ts"), ...args], { cwd, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("lint output", () => {
  let fixture: LintFixture;
  let report: ProjectLintReport;
  beforeAll(async () => {
    fixture = lintFixture();
    fixture.add({ id: "deployed", up: DEPLOYED, down: `op.dropTable("users");` });
    fixture.add({ id: "change", up: CHANGE, down: `op.dropTable("notes");\nop.dropIndex("ix_users_email");` });
    writeFileSync(join(fixture.root, "retort.config.mjs"), `export default ${JSON.stringify(fixture.config.config)};\n`);
    report = await fixture.lint({ range: "change" });
  });

  it("text names file:line, severity and rule, the message, the lock and the fix", () => {
    const text = formatText(report);
    const file = report.findings[0]!.file;
    expect(text).toContain(`${file}:11  warning  require-timeout-settings\n`);
    expect(text).toContain(`${file}:11  error  require-concurrent-index-creation\n  index ix_users_email is built without CONCURRENTLY: writes to users wait for the whole build\n  lock: SHARE, builds an index\n  fix: Build the index CONCURRENTLY`);
    expect(text).toContain(`${file}:12  warning  prefer-text-field\n`);
    expect(text.split("\n").at(-1)).toBe("1 migration linted (Postgres 14): 1 error(s), 2 warning(s), 0 info");
  });

  it("the rule catalogue lists every rule with its severity, lock and versions", () => {
    const lines = formatRules().split("\n");
    expect(lines).toHaveLength(RULES.length);
    expect(lines.find((line) => line.startsWith("require-concurrent-index-creation "))).toMatch(/^require-concurrent-index-creation +error +SHARE \+ index-build +CREATE INDEX without CONCURRENTLY on an existing table$/);
    expect(lines.find((line) => line.startsWith("adding-not-nullable-field "))).toMatch(/ACCESS EXCLUSIVE \+ scan .*\[from 12 a validated CHECK/);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.explanation.length).toBeGreaterThan(40);
      expect(rule.alternative.length).toBeGreaterThan(10);
    }
    // A ready snippet for every rule but the ones where there is nothing to write instead.
    expect(RULES.filter((rule) => !rule.snippet).map((rule) => rule.id)).toEqual(["ban-drop-database", "invalid-migration", "unused-suppression"]);
  });

  it("GitHub annotations: one workflow command per finding, properties and data escaped", () => {
    const lines = formatGithub(report).split("\n");
    expect(lines).toHaveLength(3);
    const file = report.findings[0]!.file;
    expect(lines[1]).toMatch(new RegExp(`^::error file=${file.replace(/[.]/g, "\\.")},line=11,title=retort lint%3A require-concurrent-index-creation::index ix_users_email is built without CONCURRENTLY: writes to users wait for the whole build%0Afix: `));
    expect(lines[0]).toMatch(/^::warning file=.*,line=11,title=retort lint%3A require-timeout-settings::/);
    for (const line of lines) expect(line).not.toMatch(/\n/);
  });

  it("SARIF 2.1.0: the shape code scanning reads, every rule listed, results pointing at theirs", () => {
    const sarif = sarifSchema.parse(formatSarif(report, "1.2.3"));
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe("retort-lint");
    expect(run.tool.driver.rules.map((rule) => rule.id)).toEqual(RULES.map((rule) => rule.id));
    expect(run.results.map((result) => [result.ruleId, result.level, result.locations[0]!.physicalLocation.region?.startLine])).toEqual([
      ["require-timeout-settings", "warning", 11],
      ["require-concurrent-index-creation", "error", 11],
      ["prefer-text-field", "warning", 12],
    ]);
    for (const result of run.results) expect(run.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId);
    expect(run.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toMatch(/^migrations\/versions\/\d{14}_change\.ts$/);
  });

  it("retort lint exits 1 on errors and prints the format asked for; exit 0 when only warnings remain", async () => {
    const text = await retort(fixture.root, "lint", "change");
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("error  require-concurrent-index-creation");
    const sarif = await retort(fixture.root, "lint", "change", "--format", "sarif");
    expect(sarif.code).toBe(1);
    expect(sarifSchema.parse(JSON.parse(sarif.stdout)).runs[0]!.results).toHaveLength(3);
    const github = await retort(fixture.root, "lint", "change", "--format", "github");
    expect(github.stdout.split("\n").filter((line) => line.startsWith("::"))).toHaveLength(3);
    const json = await retort(fixture.root, "--json", "lint", "deployed");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ files: 1, errors: 0, warnings: 0, findings: [], revisions: ["deployed"] });
  }, 120_000);

  it("revision --autogenerate prints the findings of the file it wrote", async () => {
    const project = lintFixture();
    writeFileSync(join(project.root, "schema.ts"), `import { t, table } from ${JSON.stringify(SOURCE_INDEX)};\nexport const tags = table("tags", { id: t.integer().primaryKey(), label: t.varchar(40) });\n`);
    writeFileSync(join(project.root, "retort.config.mjs"), `export default ${JSON.stringify({ ...project.config.config, models: "./schema.ts" })};\n`);
    const result = await retort(project.root, "revision", "--autogenerate", "-m", "tags", "--dialect", "postgres");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/created migrations\/versions\/\d{14}_tags\.ts|created .*_tags\.ts/);
    expect(result.stdout).toMatch(/_tags\.ts:\d+ {2}warning {2}prefer-bigint-over-int\n {2}tags\.id is a 32-bit integer key/);
    expect(result.stdout).toContain("warning  prefer-text-field");
    expect(result.stdout).toContain("1 migration linted (Postgres 14): 0 error(s), 2 warning(s), 0 info");
  }, 120_000);
});
