/**
 * A throwaway project for the testing helpers: migrations written through test/runtime/project.ts,
 * a models module, and test URLs on the suite's Postgres server whose stems are unique per call
 * (so parallel files never share templates or leftovers).
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { createProject, SOURCE_INDEX, type Project } from "../runtime/project.js";
import { serverUrl } from "../support/postgres.js";

export const exec = promisify(execFile);

export interface TestingProject extends Project {
  /** Write src/schema.ts with a `notes` table (and `extra` columns) and point the config at it. */
  models(extra?: string): void;
}

/** A project with two revisions: `notes` (id, body) and `tags` (id, name unique), `marker` making the migrations unique to it. */
export function notesProject(marker = Math.random().toString(36).slice(2, 8)): TestingProject {
  const project = createProject();
  project.add({ id: "a1", message: "notes", up: `op.createTable("notes", { id: t.integer().primaryKey(), body: t.text() }); // ${marker}`, down: `op.dropTable("notes");` });
  project.add({ id: "b2", parents: ["a1"], message: "tags", up: `op.createTable("tags", { id: t.integer().primaryKey(), name: t.text().unique() });`, down: `op.dropTable("tags");` });
  return Object.assign(project, {
    models(extra = "") {
      writeFileSync(
        join(project.root, "schema.ts"),
        `import { t, table } from ${JSON.stringify(SOURCE_INDEX)};\n` +
          `export const notes = table("notes", { id: t.integer().primaryKey(), body: t.text()${extra} });\n` +
          `export const tags = table("tags", { id: t.integer().primaryKey(), name: t.text().unique() });\n`,
      );
      project.config.config.models = "schema.ts";
    },
  });
}

/** A test URL on the suite's server with a stem of its own: postgres://…/<stem>_test. */
export function testServerUrl(stem = `rt${Math.random().toString(36).slice(2, 8)}`): string {
  const url = new URL(serverUrl);
  url.pathname = `/${stem}_test`;
  return url.toString();
}

/** Names of the databases on the suite's server starting with `prefix`. */
export async function databasesLike(prefix: string): Promise<Array<{ name: string; template: boolean; note: string | null }>> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT datname AS name, datistemplate AS template, shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
      [prefix],
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** Remove templates from the suite's server (they are keyed by content and would stay for the next run). */
export async function dropTemplates(names: Iterable<string>): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (const name of names) {
      await client.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE false`).catch(() => {});
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

/** Run a TypeScript snippet in a new Node process (tsx), from this repository's folder; resolves with its stdout. */
export async function runScript(code: string, env: Record<string, string> = {}): Promise<string> {
  const file = join(resolve("test/testing"), `.script-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, code);
  try {
    const { stdout } = await exec(process.execPath, ["--import", "tsx", file], { env: { ...process.env, ...env }, cwd: resolve("."), timeout: 60_000 });
    return stdout;
  } finally {
    (await import("node:fs")).rmSync(file, { force: true });
  }
}

export const TESTING_INDEX = resolve("src/testing/index.ts");
