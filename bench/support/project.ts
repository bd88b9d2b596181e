/**
 * A throwaway Retort project for the migration benchmarks: a `retort.config.mjs` (plain JS, so no
 * TypeScript compile when it loads), and a linear chain of `.mjs` revision files rendered with the
 * same template `retort revision` uses, importing the built library (dist/index.js) by absolute
 * path. Like any project that installed retort-db, it has a node_modules folder (retort-db linked
 * there): Retort keeps its caches in node_modules/.cache, and a project without one pays on every
 * command for what a real one pays once (e.g. checking an unchanged config).
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { migrationFileName, renderMigration } from "../../src/script/index.js";

export type ChainKind =
  /** upgrade/downgrade bodies empty */
  | "empty"
  /** each revision creates a table t_NNNNN (id, name) and an index on name */
  | "table";

export interface MigrationProject {
  dir: string;
  versions: string;
  /** Default settings: one transaction per migration. */
  config: string;
  /** Same folder with migrations.transaction "all": only to reach head quickly before measuring no-ops. */
  applyConfig: string;
  count: number;
  head: string;
}

export const revisionId = (i: number) => i.toString(16).padStart(12, "0");

export function writeProject(dir: string, count: number, kind: ChainKind, libraryEntry: string): MigrationProject {
  const versions = join(dir, "versions");
  mkdirSync(versions, { recursive: true });
  mkdirSync(join(dir, "node_modules"));
  // libraryEntry is <package>/dist/index.js.
  symlinkSync(dirname(dirname(libraryEntry)), join(dir, "node_modules", "retort-db"), "dir");
  const lib = JSON.stringify(libraryEntry);
  const config = join(dir, "retort.config.mjs");
  const applyConfig = join(dir, "retort.apply.config.mjs");
  writeFileSync(config, `export default { migrations: { directory: "versions", importFrom: ${lib} } };\n`);
  writeFileSync(applyConfig, `export default { migrations: { directory: "versions", importFrom: ${lib}, transaction: "all" } };\n`);

  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; i++) {
    const createdAt = new Date(start + i * 1000);
    const message = `revision ${i}`;
    const table = `t_${String(i).padStart(5, "0")}`;
    const bodies =
      kind === "empty"
        ? { upgradeBody: "", downgradeBody: "" }
        : {
            imports: [`import { t } from ${lib};`],
            upgradeBody: `op.createTable("${table}", { id: t.integer().primaryKey(), name: t.text() });\nop.createIndex(null, "${table}", ["name"]);`,
            downgradeBody: `op.dropTable("${table}");`,
          };
    const text = renderMigration({
      revision: revisionId(i),
      parents: i === 0 ? [] : [revisionId(i - 1)],
      message,
      createdAt,
      moduleSpecifier: libraryEntry,
      ...bodies,
    });
    writeFileSync(join(versions, migrationFileName(createdAt, message).replace(/\.ts$/, ".mjs")), text);
  }
  return { dir, versions, config, applyConfig, count, head: revisionId(count - 1) };
}
