/**
 * `tsx bench/audit.ts`: what the audit trail costs a bulk load. createMany of 100,000 rows into an
 * audited table (every row also gets its audit row, in the same transaction) against the same
 * createMany into an identical table that is not audited, in the same run, on the Postgres server,
 * PGlite and SQLite. Target (issue 14): audited within 2x the unaudited time.
 *
 * Rounds alternate which table goes first; each round empties both tables and the audit table
 * first; the figure is the median of the per-round ratios. BENCH_AUDIT_ROWS (100,000),
 * BENCH_AUDIT_ROUNDS (5), BENCH_AUDIT_BACKENDS (postgres,pglite,sqlite). Server: TEST_DATABASE_URL
 * or postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped.
 */
import { connect, createAll, t, table, timestamps, type Database } from "../src/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../test/support/postgres.js";

const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_AUDIT_ROUNDS ?? 5);
const BACKENDS = (process.env.BENCH_AUDIT_BACKENDS ?? "postgres,pglite,sqlite").split(",");

const columns = () => ({
  id: t.bigint().primaryKey(),
  name: t.text(),
  amount: t.integer(),
  active: t.boolean(),
  secret: t.text().sensitive(),
  payload: t.jsonb<{ tag: string; n: number }>(),
  ...timestamps(),
});
const plain = table("bench_plain", columns());
const audited = table("bench_audited", columns(), { audit: true });
const schema = { plain, audited };

const rows = Array.from({ length: ROWS }, (_, i) => ({
  id: BigInt(i + 1),
  name: `event ${i}`,
  amount: i % 1000,
  active: i % 2 === 0,
  secret: `s${i}`,
  payload: { tag: `t${i % 10}`, n: i },
}));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function empty(db: Database<typeof schema>): Promise<void> {
  for (const name of ["bench_plain", "bench_audited", "retort_audit_log"]) await db.query(`DELETE FROM "${name}"`);
  if (db.family === "postgres") await db.query("VACUUM ANALYZE").catch(() => undefined);
}

async function timeLoad(db: Database<typeof schema>, which: "plain" | "audited"): Promise<number> {
  const start = performance.now();
  const count = await db.models[which].createMany(rows, { actor: { id: "bench", kind: "job" } });
  const ms = performance.now() - start;
  if (count !== ROWS) throw new Error(`${which}: loaded ${count} rows, expected ${ROWS}`);
  return ms;
}

async function bench(backend: string): Promise<void> {
  let temp: TempDatabase | undefined;
  let url = backend === "sqlite" ? "sqlite::memory:" : "pglite:memory";
  if (backend === "postgres") {
    if (!(await postgresReachable())) {
      console.log("postgres: SKIPPED (no server)");
      return;
    }
    temp = await createTempDatabase("retort_bench_audit");
    url = temp.url;
  }
  const db = await connect(url, { schema });
  try {
    await createAll(db);
    const ratios: number[] = [];
    const plainMs: number[] = [];
    const auditedMs: number[] = [];
    for (let round = 0; round < ROUNDS + 1; round++) {
      await empty(db);
      const order: Array<"plain" | "audited"> = round % 2 === 0 ? ["plain", "audited"] : ["audited", "plain"];
      const ms: Record<string, number> = {};
      for (const which of order) ms[which] = await timeLoad(db, which);
      const audits = Number((await db.query<{ n: unknown }>(`SELECT count(*) AS n FROM retort_audit_log`)).rows[0]!.n);
      if (audits !== ROWS) throw new Error(`expected ${ROWS} audit rows, found ${audits}`);
      if (round === 0) continue; // warm-up
      plainMs.push(ms.plain!);
      auditedMs.push(ms.audited!);
      ratios.push(ms.audited! / ms.plain!);
    }
    const ratio = median(ratios);
    console.log(
      `${backend.padEnd(8)} createMany ${ROWS.toLocaleString("en")} rows: unaudited ${median(plainMs).toFixed(0)} ms, audited ${median(auditedMs).toFixed(0)} ms, ` +
        `ratio ${ratio.toFixed(2)}x (target <= 2.00x) ${ratio <= 2 ? "ok" : "MISSED"}`,
    );
  } finally {
    await db.close();
    await temp?.drop();
  }
}

for (const backend of BACKENDS) await bench(backend);
