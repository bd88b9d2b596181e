/**
 * A fresh Postgres database per test file on the server named by TEST_DATABASE_URL
 * (default: the local server). When no server answers, Postgres cases are skipped with a visible
 * notice, except under CI, where a missing server is a failure.
 */
import { execFileSync } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

export const serverUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

let reachable: Promise<boolean> | undefined;

export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      if (process.env.CI) throw new Error(`CI needs the Postgres server at TEST_DATABASE_URL: ${(error as Error).message}`);
      console.warn(`\n[retort tests] NOTICE: no Postgres server at ${redact(serverUrl)}; Postgres-server cases are SKIPPED.\n`);
      return false;
    }
  })();
  return reachable;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Create an empty database for one test file; `drop()` removes it. */
export async function createTempDatabase(prefix = "retort_test"): Promise<TempDatabase> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A temp database and one client on it for a describe block: made before its tests, closed and
 * dropped after. Read the fields inside tests (they are set in beforeAll).
 */
export function tempDatabaseForSuite(): { readonly temp: TempDatabase; readonly client: pg.Client } {
  const suite = {} as { temp: TempDatabase; client: pg.Client };
  beforeAll(async () => {
    suite.temp = await createTempDatabase();
    suite.client = new pg.Client({ connectionString: suite.temp.url });
    await suite.client.connect();
  });
  afterAll(async () => {
    await suite.client?.end();
    await suite.temp?.drop();
  });
  return suite;
}


/** Run SQL text (several statements allowed) on a new connection: one result per statement. */
export async function runSql(url: string, text: string): Promise<pg.QueryResult[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = (await client.query(text)) as pg.QueryResult | pg.QueryResult[];
    return Array.isArray(result) ? result : [result];
  } finally {
    await client.end();
  }
}

/**
 * The schema as `pg_dump --schema-only` prints it, without the `exclude`d tables (Retort's own
 * version tables always), comments and settings; lines trimmed, without trailing commas, sorted:
 * two databases with the same objects compare equal whatever order they were made in.
 */
export function schemaDump(url: string, exclude: readonly string[] = []): string[] {
  const tables = ["retort_version", "retort_migrations", ...exclude].flatMap((table) => ["-T", table]);
  const text = execFileSync("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", ...tables, url], { encoding: "utf8" });
  return text
    .split("\n")
    .map((line) => line.trim().replace(/,$/, ""))
    // \restrict / \unrestrict carry a random key per dump (pg_dump 15.14+).
    .filter((line) => line !== "" && !line.startsWith("--") && !line.startsWith("SET ") && !line.startsWith("SELECT pg_catalog.set_config") && !/^\\(un)?restrict /.test(line))
    .sort();
}
