/**
 * `tsx bench/audit.ts`: what the audit trail costs a bulk load. createMany of 100,000 rows into an
 * audited table (every row also gets its audit row, in the same transaction) against the same
 * createMany into an identical table that is not audited, in the same run, on the Postgres server,
 * PGlite and SQLite. Target (issue 14): audited within 2x the unaudited time.
 *
 * Rounds alternate which table goes first; each round empties both tables and the audit table
 * first; the figure is the median of the per-round ratios. BENCH_AUDIT_ROWS (100,000),
 * BENCH_AUDIT_ROUNDS (5), BENCH_AUDIT_BACKENDS (postgres,pglite,sqlite), BENCH_AUDIT_KEY (given:
 * the rows give their bigint key; identity: the database numbers them, no floor line). Server:
 * TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created
 * and dropped.
 *
 * A second line per backend gives the physical floor: the same data rows and audit rows, made
 * ready beforehand in exactly the form createMany sends them (COPY data on the Postgres family,
 * encoded values for SQLite's prepared INSERT), each loaded alone through the driver. However
 * cheap building the audit rows becomes, the audited createMany takes at least the unaudited one
 * plus storing the audit rows: ratio floor = 1 + (audit rows alone / unaudited createMany).
 */
import { connect, createAll, t, table, timestamps, type Database } from "../src/index.js";
import { auditRowPlan, postgresAuditCopy, sqliteWriteAuditRows, AUDIT_LOAD_COLUMNS } from "../src/db/audit.js";
import { TableInfo } from "../src/db/table-info.js";
import { copyTextChunks } from "../src/dialects/postgres/copy-text.js";
import type { Connection } from "../src/dialects/driver.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../test/support/postgres.js";

const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_AUDIT_ROUNDS ?? 5);
const BACKENDS = (process.env.BENCH_AUDIT_BACKENDS ?? "postgres,pglite,sqlite").split(",");
const IDENTITY = process.env.BENCH_AUDIT_KEY === "identity";

const columns = () => ({
  id: IDENTITY ? t.bigint().identity().primaryKey() : t.bigint().primaryKey(),
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
  ...(IDENTITY ? {} : { id: BigInt(i + 1) }),
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
  // The key's column type depends on BENCH_AUDIT_KEY, so the rows' type cannot follow it.
  const count = await db.models[which].createMany(rows as Parameters<(typeof db.models)["plain"]["createMany"]>[0], { actor: { id: "bench", kind: "job" } });
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
    if (IDENTITY) return; // the floor needs the audit rows made beforehand, so the keys given
    const floor = await physicalFloor(db);
    console.log(
      `${"".padEnd(8)} floor: data rows alone ${floor.dataMs.toFixed(0)} ms, audit rows alone ${floor.auditMs.toFixed(0)} ms ` +
        `(${((100 * floor.auditMs) / floor.dataMs).toFixed(0)}% of the data rows, ${((100 * floor.auditMs) / median(plainMs)).toFixed(0)}% of the unaudited createMany): ` +
        `ratio floor ${(1 + floor.auditMs / median(plainMs)).toFixed(2)}x`,
    );
  } finally {
    await db.close();
    await temp?.drop();
  }
}

/** Median times of loading the data rows alone and the audit rows alone, each made ready beforehand (see the header). */
async function physicalFloor(db: Database<typeof schema>): Promise<{ dataMs: number; auditMs: number }> {
  const driver = db.driver;
  const tableOf = (name: string) => db.schema.tables.find((t) => t.name === name)!;
  const plainSchema = tableOf("bench_plain");
  const auditSchema = tableOf("retort_audit_log");
  const info = new TableInfo(plain, plainSchema, db.family);
  const given = info.columns.filter((c) => rows[0]![c.key as keyof (typeof rows)[0]] !== undefined);
  const dataColumns = given.map((c) => plainSchema.columns.find((s) => s.name === c.dbName)!);
  const auditColumns = AUDIT_LOAD_COLUMNS.map((name) => auditSchema.columns.find((c) => c.name === name)!);
  const encoded = rows.map((row) => given.map((c) => driver.encode(c.type, row[c.key as keyof typeof row])));
  // The audit rows of the audited table, as its createMany writes them (now() defaults: one time for the load).
  const plan = auditRowPlan(new TableInfo(audited, tableOf("bench_audited"), db.family), given)!;
  const text = plan.text(JSON.stringify(new Date().toISOString()));
  const load = { action: "createMany", table: "bench_audited", actor: { id: "bench", kind: "job" }, transactionId: "1" } as const;
  const values = rows as unknown as Record<string, unknown>[];
  let loadData: (conn: Connection) => Promise<number>;
  let loadAudit: (conn: Connection) => Promise<number>;
  if (db.family === "postgres") {
    const dataText = [...copyTextChunks(encoded)];
    const auditBinary = [...postgresAuditCopy(load, text, values)];
    loadData = (conn) => driver.copyData!(conn, plainSchema, dataColumns, "text", dataText);
    loadAudit = (conn) => driver.copyData!(conn, auditSchema, auditColumns, "binary", auditBinary);
  } else {
    // SQLite's createMany gives the now() columns the load's time; so does this.
    const now = driver.encode({ kind: "timestamptz" }, new Date());
    const withNow = plan.nowColumns.map((c) => plainSchema.columns.find((s) => s.name === c.dbName)!);
    const dataRows = encoded.map((row) => [...row, ...plan.nowColumns.map(() => now)]);
    // The audit rows' JSON made beforehand too: the writer is handed it as it is.
    const built = values.map((row) => ({ key: text.key(row), after: text.after(row) }));
    const asBuilt = { key: (row: Record<string, unknown>) => row.key as string, after: (row: Record<string, unknown>) => row.after as string };
    loadData = (conn) => driver.bulkInsert(conn, plainSchema, [...dataColumns, ...withNow], dataRows);
    loadAudit = async (conn) => {
      // Atomic by itself, as the data rows' bulkInsert is.
      await conn.query("BEGIN");
      const count = await sqliteWriteAuditRows(conn, load, now as string, asBuilt, built);
      await conn.query("COMMIT");
      return count;
    };
  }
  // Each load alone, on a held connection, atomic by itself as createMany's transaction is.
  const timed = async (run: (conn: Connection) => Promise<number>) => {
    const conn = await driver.acquire();
    try {
      const start = performance.now();
      if ((await run(conn)) !== ROWS) throw new Error("floor: a load did not write every row");
      return performance.now() - start;
    } finally {
      conn.release();
    }
  };
  const dataMs: number[] = [];
  const auditMs: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    await empty(db);
    const data = await timed(loadData);
    const audit = await timed(loadAudit);
    if (round === 0) continue; // warm-up
    dataMs.push(data);
    auditMs.push(audit);
  }
  return { dataMs: median(dataMs), auditMs: median(auditMs) };
}

for (const backend of BACKENDS) await bench(backend);
