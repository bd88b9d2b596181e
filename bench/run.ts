/**
 * `npm run bench`: Retort's controllers against raw `pg` on the local Postgres server, measured
 * in the same run and printed as ratios (targets from issue 11 in brackets).
 *
 * - get by primary key, single insert, select-100 (`find({ where: { category }, orderBy: { id:
 *   "asc" }, limit: 100 })` on a 100,000-row table): raw pg with a named prepared statement of
 *   the exact SQL the controller runs, vs the controller (targets <= 1.05x, <= 1.05x, <= 1.10x);
 * - a one-to-many load of 100 parents with their children (`find({ …, limit: 100, with: { posts:
 *   true } })`, 1,000 child rows) vs the same two statements through raw pg, without even
 *   grouping the children (target <= 1.15x);
 * - createMany of 100,000 rows vs raw COPY through pg-copy-streams (target >= 0.9x the raw
 *   throughput).
 *
 * The harness is the one docs describe (DESIGN.md §7): one connection per runner, all in one
 * process; every call timed alone; a batch's figure is its median per-call time; batches of the
 * two runners interleave (alternating which goes first) after a warm-up; the ratio reported is
 * the median of the per-batch (paired) ratios. Calls: 10,000 gets, 10,000 inserts, 2,000
 * select-100, 1,000 relation loads, split into BENCH_BATCHES (10) batches; BENCH_SCALE (1)
 * multiplies the call counts. Server: TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/
 * postgres; a fresh database is created and dropped. Measures dist/ after `npm run build`
 * (BENCH_SKIP_BUILD=1 skips the build).
 */
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Retort from "../src/index.js";
import { createTempDatabase } from "../test/support/postgres.js";
import { buildForBench } from "./support/process.js";

// What users run: tsc's output under plain node. The TypeScript source under tsx would also pay
// for esbuild's keepNames wrapper on every closure a call creates, which no installed app runs.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = join(ROOT, "dist", "index.js");
buildForBench(ROOT, ENTRY, console.log);
const { connect, createAll, index, relations, t, table, timestamps } = (await import(pathToFileURL(ENTRY).href)) as typeof Retort;

const BATCHES = Number(process.env.BENCH_BATCHES ?? 10);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const calls = (total: number) => Math.max(1, Math.round((total * SCALE) / BATCHES));
const BULK_ROWS = Number(process.env.BENCH_BULK_ROWS ?? 100_000);
const BULK_ROUNDS = Number(process.env.BENCH_BULK_ROUNDS ?? 7);
const TABLE_ROWS = 100_000;
const CATEGORIES = 100; // 1,000 rows per category
const AUTHORS = 10_000;
const POSTS_PER_AUTHOR = 10;
const AUTHOR_GROUPS = AUTHORS / 100; // 100 authors per group

const events = table("bench_events", {
  id: t.bigint().primaryKey(),
  name: t.text(),
  amount: t.integer(),
  active: t.boolean(),
  payload: t.jsonb<{ tag: string; n: number }>(),
  ...timestamps(),
});
const items = table(
  "bench_items",
  {
    id: t.bigint().primaryKey(),
    category: t.integer(),
    name: t.text(),
    price: t.integer(),
    active: t.boolean(),
  },
  (i) => [index(i.category)],
);
const authors = table(
  "bench_authors",
  {
    id: t.bigint().primaryKey(),
    groupId: t.integer(),
    name: t.text(),
  },
  (a) => [index(a.groupId)],
);
const posts = table(
  "bench_posts",
  {
    id: t.bigint().primaryKey(),
    authorId: t.bigint().references(() => authors.id),
    title: t.text(),
    score: t.integer(),
  },
  (p) => [index(p.authorId)],
);
const authorRelations = relations(authors, ({ many }) => ({ posts: many(posts) }));
const schema = { events, items, authors, posts, authorRelations };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pairedRatio = (numerators: number[], denominators: number[]) => median(numerators.map((n, i) => n / denominators[i]!));
const fmt = (us: number) => `${us.toFixed(1)} µs`;

interface Result {
  name: string;
  baseline: number;
  retort: number;
  ratio: number;
  target: string;
  ok: boolean;
}
const results: Result[] = [];

function report(name: string, baseline: number, retort: number, unit: string, targetText: string, ok: (ratio: number) => boolean, ratio: number): void {
  results.push({ name, baseline, retort, ratio, target: targetText, ok: ok(ratio) });
  console.log(`${name.padEnd(34)} raw ${fmt(baseline).padStart(10)}${unit}   retort ${fmt(retort).padStart(10)}${unit}   ratio ${ratio.toFixed(3)}x  [${targetText}] ${ok(ratio) ? "ok" : "MISSED"}`);
}

/** Node CPU time (µs) spent by each side, summed over all batches: steadier than wall time on a shared VM. */
const cpuSpent = { raw: 0, retort: 0 };

/** One batch: `count` calls, each timed alone; returns the median per-call time (µs). */
async function batch(count: number, fn: (i: number) => Promise<unknown>, side: keyof typeof cpuSpent): Promise<number> {
  const times = new Array<number>(count);
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    times[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  const used = process.cpuUsage(cpu);
  cpuSpent[side] += used.user + used.system;
  return median(times);
}

/** Interleaved batches of baseline and Retort calls; returns both sides' per-batch medians. */
async function compare(perBatch: number, baseline: (i: number) => Promise<unknown>, retort: (i: number) => Promise<unknown>): Promise<{ raw: number[]; retort: number[] }> {
  const raw: number[] = [];
  const ours: number[] = [];
  cpuSpent.raw = cpuSpent.retort = 0;
  for (let b = 0; b < BATCHES; b++) {
    if (b % 2 === 0) {
      raw.push(await batch(perBatch, baseline, "raw"));
      ours.push(await batch(perBatch, retort, "retort"));
    } else {
      ours.push(await batch(perBatch, retort, "retort"));
      raw.push(await batch(perBatch, baseline, "raw"));
    }
  }
  const ops = perBatch * BATCHES;
  console.log(`${"".padEnd(34)} node CPU per call: raw ${fmt(cpuSpent.raw / ops)}, retort ${fmt(cpuSpent.retort / ops)} (${(cpuSpent.retort / cpuSpent.raw).toFixed(3)}x)`);
  return { raw, retort: ours };
}

/** Warm both paths up (prepare, JIT) before measuring. */
async function warmUp(count: number, baseline: (i: number) => Promise<unknown>, retort: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i++) {
    await baseline(i);
    await retort(i);
  }
}

const temp = await createTempDatabase("retort_bench");
const db = await connect(temp.url, { schema, poolSize: 1 });
const raw = new pg.Pool({ connectionString: temp.url, max: 1 });
try {
  await createAll(db);
  const c = db.models.events;
  await c.createMany(Array.from({ length: TABLE_ROWS }, (_, i) => ({ id: BigInt(i + 1), name: `event ${i}`, amount: i, active: i % 2 === 0, payload: { tag: "seed", n: i } })));
  await db.models.items.createMany(Array.from({ length: TABLE_ROWS }, (_, i) => ({ id: BigInt(i + 1), category: i % CATEGORIES, name: `item ${i}`, price: (i * 7) % 1000, active: i % 3 !== 0 })));
  await db.models.authors.createMany(Array.from({ length: AUTHORS }, (_, i) => ({ id: BigInt(i + 1), groupId: i % AUTHOR_GROUPS, name: `author ${i}` })));
  await db.models.posts.createMany(
    Array.from({ length: AUTHORS * POSTS_PER_AUTHOR }, (_, i) => ({ id: BigInt(i + 1), authorId: BigInt((i % AUTHORS) + 1), title: `post ${i}`, score: i % 100 })),
  );
  await db.query("ANALYZE");

  /** The SQL text the controller prepared for `operation`, so both sides parse and plan the same statement. */
  const preparedSql = (info: { statements: Map<string, { name: string; text: string }>; shapes: Map<string, string> }, operation: string) => {
    const fromHotPath = [...info.statements.values()].find((s) => s.name.includes(`_${operation}_`))?.text;
    const fromShapes = [...info.shapes].find(([, name]) => name.includes(`_${operation}_`))?.[0];
    const text = fromHotPath ?? fromShapes;
    if (!text) throw new Error(`no prepared ${operation} statement found`);
    return text;
  };

  // get by primary key
  await c.get(1n);
  const getSql = preparedSql(c.info, "get");
  let getCounter = 0;
  const rawGet = () => raw.query({ name: "raw_get", text: getSql, values: [String((getCounter++ % TABLE_ROWS) + 1)] });
  const retortGet = () => c.get(BigInt((getCounter++ % TABLE_ROWS) + 1));
  await warmUp(1000, rawGet, retortGet);
  const gets = await compare(calls(10_000), rawGet, retortGet);
  report("get by primary key", median(gets.raw), median(gets.retort), "/call", "<= 1.05x", (x) => x <= 1.05, pairedRatio(gets.retort, gets.raw));

  // Single insert: the controller's statement for these columns, taken from its cache.
  let nextId = 10_000_000;
  const insertInput = () => ({ id: BigInt(nextId++), name: "insert", amount: 7, active: true, payload: { tag: "ins", n: 1 } });
  await c.create(insertInput());
  const insertSql = preparedSql(c.info, "create");
  const rawInsert = () => {
    const v = insertInput();
    return raw.query({ name: "raw_insert", text: insertSql, values: [v.id.toString(), v.name, v.amount, v.active, JSON.stringify(v.payload)] });
  };
  const retortInsert = () => c.create(insertInput());
  await warmUp(500, rawInsert, retortInsert);
  const inserts = await compare(calls(10_000), rawInsert, retortInsert);
  report("single insert (create)", median(inserts.raw), median(inserts.retort), "/call", "<= 1.05x", (x) => x <= 1.05, pairedRatio(inserts.retort, inserts.raw));

  // select-100: a filter, an order and a limit.
  const itemsController = db.models.items;
  await itemsController.find({ where: { category: 0 }, orderBy: { id: "asc" }, limit: 100 });
  const selectSql = preparedSql(itemsController.info, "find");
  let category = 0;
  const rawSelect = () => raw.query({ name: "raw_select", text: selectSql, values: [category++ % CATEGORIES, 100] });
  const retortSelect = async () => {
    const rows = await itemsController.find({ where: { category: category++ % CATEGORIES }, orderBy: { id: "asc" }, limit: 100 });
    if (rows.length !== 100) throw new Error(`select-100 returned ${rows.length} rows`);
  };
  await warmUp(200, rawSelect, retortSelect);
  const selects = await compare(calls(2000), rawSelect, retortSelect);
  report("select-100 (find)", median(selects.raw), median(selects.retort), "/call", "<= 1.10x", (x) => x <= 1.1, pairedRatio(selects.retort, selects.raw));

  // One-to-many: 100 parents with their 1,000 children, two statements either way.
  const authorController = db.models.authors;
  const loadAuthors = (group: number) => authorController.find({ where: { groupId: group }, orderBy: { id: "asc" }, limit: 100, with: { posts: true } });
  const sample = await loadAuthors(0);
  const childCount = sample.reduce((n, a) => n + a.posts.length, 0);
  if (sample.length !== 100 || childCount !== 100 * POSTS_PER_AUTHOR) throw new Error(`relation load gave ${sample.length} parents, ${childCount} children`);
  const parentSql = preparedSql(authorController.info, "find");
  const childSql = preparedSql(db.models.posts.info, "find");
  let group = 0;
  const rawRelation = async () => {
    const parents = await raw.query<{ id: string }>({ name: "raw_parents", text: parentSql, values: [group++ % AUTHOR_GROUPS, 100] });
    await raw.query({ name: "raw_children", text: childSql, values: [parents.rows.map((p) => p.id)] });
  };
  const retortRelation = () => loadAuthors(group++ % AUTHOR_GROUPS);
  await warmUp(100, rawRelation, retortRelation);
  const loads = await compare(calls(1000), rawRelation, retortRelation);
  report("100 parents + children (with)", median(loads.raw), median(loads.retort), "/call", "<= 1.15x", (x) => x <= 1.15, pairedRatio(loads.retort, loads.raw));

  // Bulk: 100k rows. Raw COPY is given rows already as the driver wants them.
  const bulkRows = Array.from({ length: BULK_ROWS }, (_, i) => ({
    id: BigInt(100_000_000 + i),
    name: `bulk row ${i}`,
    amount: i % 1000,
    active: i % 3 === 0,
    payload: { tag: "bulk", n: i },
  }));
  const rawCopy = async () => {
    const client = await raw.connect();
    try {
      const stream = client.query(copyFrom('COPY "bench_events" ("id", "name", "amount", "active", "payload") FROM STDIN'));
      async function* lines() {
        let chunk = "";
        for (const row of bulkRows) {
          chunk += `${row.id}\t${row.name}\t${row.amount}\t${row.active ? "t" : "f"}\t${JSON.stringify(row.payload)}\n`;
          if (chunk.length > 256 * 1024) {
            yield chunk;
            chunk = "";
          }
        }
        if (chunk) yield chunk;
      }
      await pipeline(Readable.from(lines()), stream);
    } finally {
      client.release();
    }
  };
  const clear = () => raw.query("DELETE FROM bench_events WHERE id >= 100000000");
  const bulkRaw: number[] = [];
  const bulkRetort: number[] = [];
  const timeLoad = async (load: () => Promise<unknown>) => {
    await clear();
    const start = performance.now();
    await load();
    return ((performance.now() - start) * 1000) / BULK_ROWS;
  };
  await timeLoad(() => c.createMany(bulkRows)); // warm-up
  for (let r = 0; r < BULK_ROUNDS; r++) {
    if (r % 2 === 0) {
      bulkRaw.push(await timeLoad(rawCopy));
      bulkRetort.push(await timeLoad(() => c.createMany(bulkRows)));
    } else {
      bulkRetort.push(await timeLoad(() => c.createMany(bulkRows)));
      bulkRaw.push(await timeLoad(rawCopy));
    }
  }
  const throughputRatio = pairedRatio(bulkRaw, bulkRetort);
  report(`createMany ${BULK_ROWS.toLocaleString("en")} rows (throughput)`, median(bulkRaw), median(bulkRetort), "/row", ">= 0.9x", (x) => x >= 0.9, throughputRatio);
} finally {
  await db.close();
  await raw.end();
  await temp.drop();
}

const missed = results.filter((r) => !r.ok);
console.log(missed.length === 0 ? "\nAll targets met." : `\nTargets missed: ${missed.map((r) => r.name).join(", ")}`);
if (process.env.BENCH_JSON) console.log(JSON.stringify(results));
