/**
 * A throwaway migration project for runtime tests: a folder with revision files written through
 * the same template `retort revision` uses, importing Retort from this repository's source.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { LoadedConfig, MigrationSettings } from "../../src/index.js";
import { migrationFileName, renderMigration } from "../../src/script/index.js";

export const SOURCE_INDEX = resolve("src/index.ts");

export interface Project {
  root: string;
  dir: string;
  config: LoadedConfig;
  /** Write a revision; bodies are the statements inside upgrade(op) / downgrade(op). */
  add(spec: { id: string; parents?: string[]; message?: string; up: string; down?: string; transactional?: boolean; branchLabels?: string[]; dependsOn?: string[] }): string;
}

let clock = Date.UTC(2026, 0, 1);

export function createProject(settings: MigrationSettings = {}): Project {
  const root = mkdtempSync(join(tmpdir(), "retort-project-"));
  const dir = join(root, "migrations", "versions");
  mkdirSync(dir, { recursive: true });
  const config: LoadedConfig = { root, config: { migrations: { importFrom: SOURCE_INDEX, ...settings } } };
  return {
    root,
    dir,
    config,
    add(spec) {
      const createdAt = new Date((clock += 60_000));
      const file = join(dir, migrationFileName(createdAt, spec.message ?? spec.id));
      writeFileSync(
        file,
        renderMigration({
          revision: spec.id,
          parents: spec.parents ?? [],
          message: spec.message ?? spec.id,
          createdAt,
          ...(spec.branchLabels ? { branchLabels: spec.branchLabels } : {}),
          ...(spec.dependsOn ? { dependsOn: spec.dependsOn } : {}),
          ...(spec.transactional === false ? { transactional: false } : {}),
          upgradeBody: spec.up,
          downgradeBody: spec.down ?? "",
          moduleSpecifier: SOURCE_INDEX,
          imports: [`import { enumColumn, index, sql, t, unique } from ${JSON.stringify(SOURCE_INDEX)};`],
        }),
      );
      return file;
    },
  };
}
