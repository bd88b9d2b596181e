/**
 * `npx tsx bench/startup.ts`: what `upgradeOnStartup()` costs an application that boots with
 * nothing to migrate (issue 13, "Upgrade at startup"), in process, at 1,000 and 10,000 revisions,
 * with a warm header cache (the first call of a process reads the headers; every later start of
 * the same build finds them cached under .retort/cache). Target: under 20 ms at 10,000.
 *
 * Baseline in the same run: the one query it has to send (SELECT version_num FROM retort_version)
 * through the same connection. The rest is reading the graph from the cache and comparing heads.
 * On SQLite (in memory) and, when it answers, the local Postgres server.
 * Environment: BENCH_SIZES ("1000,10000"), BENCH_CALLS (30), TEST_DATABASE_URL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, stamp, upgradeOnStartup, type Database, type LoadedConfig } from "../src/index.js";
import { postgresAvailable, tempDatabase } from "./support/postgres.js";
import { writeProject } from "./support/project.js";

const SIZES = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map(Number);
const CALLS = Number(process.env.BENCH_CALLS ?? 30);
const TARGET_MS = 20;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timeCalls(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function measure(db: Database<any>, config: LoadedConfig): Promise<{ startup: number; query: number }> {
  await stamp("heads", { config, database: db });
  const silent = { info: () => {} };
  const startup = await timeCalls(async () => {
    const result = await upgradeOnStartup({ database: db, config, env: "production", logger: silent });
    if (result.action !== "up-to-date") throw new Error(`expected nothing to do, got ${result.action}`);
  });
  const query = await timeCalls(async () => {
    const conn = await db.driver.acquire();
    try {
      await conn.query("SELECT version_num FROM retort_version");
    } finally {
      conn.release();
    }
  });
  return { startup, query };
}

const rows: string[] = [];
const work = mkdtempSync(join(tmpdir(), "retort-bench-startup-"));
try {
  for (const size of SIZES) {
    const project = writeProject(join(work, String(size)), size, "empty", join(process.cwd(), "src", "index.ts"));
    const config: LoadedConfig = { root: project.dir, config: { migrations: { directory: "versions" } } };
    // A deployed build's files are older than its first start; caches distrust files changed in the last 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const backends: Array<[string, () => Promise<{ db: Database<any>; done: () => Promise<void> }>]> = [
      ["sqlite", async () => ({ db: await connect("sqlite::memory:", { schema: {} }), done: async () => {} })],
    ];
    const unavailable = await postgresAvailable();
    if (unavailable) console.log(`postgres skipped: ${unavailable}`);
    else {
      backends.push([
        "postgres",
        async () => {
          const temp = await tempDatabase();
          return { db: await connect(temp.url, { schema: {} }), done: () => temp.drop() };
        },
      ]);
    }
    for (const [name, open] of backends) {
      const { db, done } = await open();
      try {
        const { startup, query } = await measure(db, config);
        const verdict = size >= 10_000 ? (startup < TARGET_MS ? "met" : "MISSED") : "";
        rows.push(`${String(size).padStart(6)}  ${name.padEnd(8)}  ${startup.toFixed(2).padStart(8)} ms  ${query.toFixed(2).padStart(8)} ms  ${(startup - query).toFixed(2).padStart(8)} ms  ${verdict}`);
      } finally {
        await db.close();
        await done();
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`upgradeOnStartup with nothing pending (median of ${CALLS} calls, warm header cache; target < ${TARGET_MS} ms at 10,000)`);
console.log(`  revs  backend     startup     the query     the rest`);
for (const row of rows) console.log(row);
