/**
 * A migrated project with data for backup tests, on each backend: a `users` table with most
 * column types (uuid, text, numeric, boolean, timestamptz, jsonb, bytea, NULLs), an `events`
 * table without a primary key, and Retort's version tables. `allRows` reads every row of every
 * table (in key order) so a restore can be compared row by row with the original.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../src/index.js";
import { upgrade } from "../../src/runtime/api.js";
import { createProject, sqliteFileUrl, type Project } from "../runtime/project.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";

export const HEAD = "bk0000000002";

export function backupProject(): Project {
  const project = createProject();
  project.add({
    id: "bk0000000001",
    up: `op.createTable("users", { id: t.uuid().primaryKey(), name: t.text(), score: t.numeric(10, 2), active: t.boolean(), joined: t.timestamptz(), meta: t.jsonb().nullable(), avatar: t.bytea().nullable() });`,
    down: `op.dropTable("users");`,
  });
  project.add({ id: HEAD, parents: ["bk0000000001"], up: `op.createTable("events", { at: t.integer(), kind: t.text() });`, down: `op.dropTable("events");` });
  return project;
}

export interface Backend {
  name: "postgres" | "pglite" | "sqlite";
  /** A fresh, empty database of this kind. */
  fresh(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function backends(): Promise<Backend[]> {
  const temps: TempDatabase[] = [];
  const list: Backend[] = [
    { name: "sqlite", fresh: async () => sqliteFileUrl(), cleanup: async () => {} },
    { name: "pglite", fresh: async () => `pglite:${join(mkdtempSync(join(tmpdir(), "retort-pglite-")), "data")}`, cleanup: async () => {} },
  ];
  if (await postgresReachable()) {
    list.push({
      name: "postgres",
      fresh: async () => {
        const temp = await createTempDatabase("retort_backup");
        temps.push(temp);
        return temp.url;
      },
      cleanup: async () => {
        for (const temp of temps.splice(0)) await temp.drop();
      },
    });
  }
  return list;
}

const placeholders = (dialect: string, count: number, offset: number) => Array.from({ length: count }, (_, i) => (dialect === "sqlite" ? "?" : `$${offset + i + 1}`)).join(", ");

/** Migrate the project's database to head and fill it with `rows` deterministic users and events. */
export async function seed(project: Project, url: string, rows = 50): Promise<void> {
  await upgrade("head", { config: project.config, url });
  const db = await connect(url);
  try {
    const dialect = db.dialect;
    for (let i = 0; i < rows; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const values = [
        id,
        `user ${i} ${"é✓".repeat(i % 3)}`,
        (i * 12.5).toFixed(2),
        dialect === "sqlite" ? i % 2 : i % 2 === 0,
        dialect === "sqlite" ? new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() : new Date(Date.UTC(2026, 0, 1, 0, i)),
        i % 5 === 0 ? null : JSON.stringify({ n: i, tags: ["a", `t${i}`] }),
        i % 4 === 0 ? null : Buffer.from([i % 256, 0, 255, 7]),
      ];
      await db.query(`INSERT INTO users (id, name, score, active, joined, meta, avatar) VALUES (${placeholders(dialect, values.length, 0)})`, values);
      await db.query(`INSERT INTO events (at, kind) VALUES (${placeholders(dialect, 2, 0)})`, [i % 7, `kind-${i % 3}`]);
    }
  } finally {
    await db.close();
  }
}

/** Every row of every table, ordered, as JSON-safe values: what "the same data" means in these tests. */
export async function allRows(url: string): Promise<Record<string, unknown[]>> {
  const db = await connect(url);
  try {
    const tableSql =
      db.dialect === "sqlite"
        ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        : "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename";
    const tables = (await db.query<{ name: string }>(tableSql)).rows.map((r) => r.name);
    const result: Record<string, unknown[]> = {};
    for (const table of tables) {
      const { rows } = await db.query(`SELECT * FROM "${table}"`);
      const json = rows.map((row) => JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).sort();
      result[table] = json.map((text) => JSON.parse(text) as unknown);
    }
    return result;
  } finally {
    await db.close();
  }
}
