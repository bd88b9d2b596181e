/**
 * A throwaway migration project for runtime tests: a folder with revision files written through
 * the same template `retort revision` uses, importing Retort from this repository's source.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect, isRetortError, type LoadedConfig, type MigrationSettings, type RetortError } from "../../src/index.js";
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

/** Run one statement on the database at `url` (its own connection, closed after) and return the rows. */
export async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await connect(url);
  try {
    return (await db.query(sql)).rows;
  } finally {
    await db.close();
  }
}

/** A SQLite file database in a new temp folder. */
export function sqliteFileUrl(): string {
  return `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-db-")), "app.db")}`;
}

/** The RetortError a command fails with (anything else, or no failure, fails the test). */
export async function failure(promise: Promise<unknown>): Promise<RetortError> {
  try {
    await promise;
  } catch (error) {
    if (isRetortError(error)) return error;
    throw error;
  }
  throw new Error("expected the command to fail");
}

/**
 * Run the `retort` command from this repository's source (tsx) with `--config <configFile>` and
 * `args`: the exit code and the output, never a rejection.
 */
export function runCli(configFile: string, args: readonly string[], timeout = 60_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile("node_modules/.bin/tsx", ["src/cli/main.ts", "--config", configFile, ...args], { timeout }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

/** Poll `probe` every 50 ms until it gives a value (undefined: not yet); fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
