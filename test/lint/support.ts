/**
 * Lint test projects: a folder of revision files written through the same template `retort
 * revision` uses, importing Retort from this repository's source, and a way to lint them.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadedConfig } from "../../src/env/config.js";
import type { LintSettings } from "../../src/lint/types.js";
import { lintProject, type HistoryReader, type LintProjectOptions, type ProjectLintReport } from "../../src/lint/project.js";
import { historyReader } from "../../src/cli/lint.js";
import { migrationFileName, renderMigration } from "../../src/script/index.js";
import { SOURCE_INDEX } from "../runtime/project.js";

export interface LintFixture {
  root: string;
  dir: string;
  config: LoadedConfig;
  /** Write a revision; `up`/`down` are the bodies of upgrade(op) / downgrade(op). Returns its path. */
  add(spec: { id: string; up: string; down?: string; transactional?: boolean; fileName?: string; header?: string; parents?: string[] }): string;
  lint(options?: Omit<LintProjectOptions, "config">): Promise<ProjectLintReport>;
}

let clock = Date.UTC(2026, 2, 1);

/** Revisions chain one after another (each one's parent is the one added before it), unless given parents. */
export function lintFixture(settings?: LintSettings): LintFixture {
  const root = mkdtempSync(join(tmpdir(), "retort-lint-"));
  const dir = join(root, "migrations", "versions");
  mkdirSync(dir, { recursive: true });
  const config: LoadedConfig = { root, config: { migrations: { importFrom: SOURCE_INDEX }, ...(settings ? { lint: settings } : {}) } };
  let previous: string | undefined;
  return {
    root,
    dir,
    config,
    add(spec) {
      const createdAt = new Date((clock += 60_000));
      const file = join(dir, spec.fileName ?? migrationFileName(createdAt, spec.id));
      const text = renderMigration({
        revision: spec.id,
        parents: spec.parents ?? (previous ? [previous] : []),
        message: spec.id,
        createdAt,
        ...(spec.transactional === false ? { transactional: false } : {}),
        upgradeBody: spec.up,
        downgradeBody: spec.down ?? "",
        moduleSpecifier: SOURCE_INDEX,
        imports: [`import { enumColumn, index, serverDefault, sql, t, unique } from ${JSON.stringify(SOURCE_INDEX)};`, ...(spec.header ? [spec.header] : [])],
      });
      writeFileSync(file, text);
      previous = spec.id;
      return file;
    },
    lint(options = {}) {
      return lintProject({ config, ...options });
    },
  };
}

/** How the CLI reads the version and history tables (the runtime's own readers). */
export const runtimeHistory: HistoryReader = await historyReader();

/** The rule ids of a report's findings, sorted (each once). */
export function ruleIds(report: ProjectLintReport): string[] {
  return [...new Set(report.findings.map((finding) => finding.rule))].sort();
}
