/**
 * Run a suite on every backend: SQLite (in memory), PGlite (in memory) and the Postgres server
 * (a fresh database per file; skipped with a visible notice when no server answers, except
 * under CI).
 */
import { afterAll, beforeAll, beforeEach, describe } from "vitest";
import { connect, createAll, type ConnectOptions, type Database } from "../../src/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "./postgres.js";

export type BackendName = "sqlite" | "pglite" | "postgres";
export const BACKENDS: BackendName[] = ["sqlite", "pglite", "postgres"];

const postgresUp = await postgresReachable();

export interface BackendContext<S> {
  readonly name: BackendName;
  readonly db: Database<S>;
  /** SQL statements run since the last reset (for query-count assertions). */
  readonly queries: string[];
}

/**
 * describe() once per backend, with a connected database whose schema is created; every table is
 * emptied before each test.
 */
export function describeBackends<S extends Record<string, unknown>>(
  title: string,
  options: ConnectOptions<S>,
  body: (ctx: BackendContext<S>) => void,
): void {
  for (const name of BACKENDS) {
    const skip = name === "postgres" && !postgresUp;
    describe.skipIf(skip)(`${title} [${name}]`, () => {
      let db: Database<S> | undefined;
      let temp: TempDatabase | undefined;
      const queries: string[] = [];
      const ctx: BackendContext<S> = {
        name,
        get db() {
          if (!db) throw new Error("database not ready");
          return db;
        },
        queries,
      };
      beforeAll(async () => {
        let url = name === "sqlite" ? "sqlite::memory:" : "pglite:memory";
        if (name === "postgres") {
          temp = await createTempDatabase();
          url = temp.url;
        }
        db = await connect(url, { ...options, onQuery: (event) => queries.push(event.sql) });
        await createAll(db);
      });
      beforeEach(async () => {
        await emptyTables(db!);
        queries.length = 0;
      });
      afterAll(async () => {
        await db?.close();
        await temp?.drop();
      });
      body(ctx);
    });
  }
}

async function emptyTables(db: Database<any>): Promise<void> {
  const tables = db.schema.tables.map((t) => `"${t.name}"`);
  if (tables.length === 0) return;
  if (db.family === "postgres") {
    await db.query(`TRUNCATE ${tables.join(", ")} RESTART IDENTITY CASCADE`);
    return;
  }
  await db.query("PRAGMA foreign_keys = OFF");
  for (const table of tables) await db.query(`DELETE FROM ${table}`);
  await db.query("PRAGMA foreign_keys = ON");
}
