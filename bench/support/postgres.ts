/**
 * The local Postgres server for the migration benchmarks: temp databases (created and dropped,
 * also on failure), psql, and a few checks.
 */
import { spawnSync } from "node:child_process";
import pg from "pg";
import { createTempDatabase, serverUrl, type TempDatabase } from "../../test/support/postgres.js";

export { serverUrl };

export async function postgresAvailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (error) {
    return `no Postgres server at ${serverUrl.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")}: ${(error as Error).message}`;
  }
}

export function psqlAvailable(): string | undefined {
  const result = spawnSync("psql", ["--version"], { encoding: "utf8" });
  return result.status === 0 ? undefined : "psql is not on PATH";
}

/** Temp databases still alive, dropped by dropAll() on the way out. */
const alive = new Set<TempDatabase>();

export async function tempDatabase(): Promise<TempDatabase> {
  const db = await createTempDatabase("retort_bench_mig");
  alive.add(db);
  return {
    url: db.url,
    async drop() {
      alive.delete(db);
      await db.drop();
    },
  };
}

export async function dropAll(): Promise<void> {
  for (const db of [...alive]) {
    alive.delete(db);
    await db.drop().catch((error: Error) => console.error(`could not drop a temp database: ${error.message}`));
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Flush dirty buffers before a timed run, so a checkpoint left over from the previous run (a
 * thousand CREATE TABLEs write a lot of WAL) does not land in the next one. Needs a superuser;
 * skipped quietly otherwise.
 */
export async function checkpoint(): Promise<void> {
  await withClient(serverUrl, (c) => c.query("CHECKPOINT")).catch(() => undefined);
}

/** Tables named t_* and the version rows: to check that a run really applied the chain. */
export async function appliedState(url: string): Promise<{ tables: number; indexes: number; versions: string[] }> {
  return withClient(url, async (c) => {
    const tables = await c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't\\_%'`);
    const indexes = await c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'ix\\_t\\_%'`);
    const versions = await c.query<{ version_num: string }>("SELECT version_num FROM retort_version");
    return { tables: Number(tables.rows[0]!.n), indexes: Number(indexes.rows[0]!.n), versions: versions.rows.map((r) => r.version_num) };
  });
}
