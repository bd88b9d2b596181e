import pg from "pg";
import { connect, createAll, t, table, timestamps } from "../../dist/index.js";
import { createTempDatabase } from "../../test/support/postgres.js";
const events = table("bench_events", { id: t.bigint().primaryKey(), name: t.text(), amount: t.integer(), active: t.boolean(), payload: t.jsonb<{ tag: string; n: number }>(), ...timestamps() });
const temp = await createTempDatabase("retort_prof");
const db = await connect(temp.url, { schema: { events }, poolSize: 1 });
const raw = new pg.Pool({ connectionString: temp.url, max: 1 });
await createAll(db);
const c = db.models.events;
let nextId = 1;
const input = () => ({ id: BigInt(nextId++), name: "insert", amount: 7, active: true, payload: { tag: "ins", n: 1 } });
await c.create(input());
const sqlText = [...(c.info as any).statements.values()][0].text;
const rawInsert = () => { const v = input(); return raw.query({ name: "raw_insert", text: sqlText, values: [v.id.toString(), v.name, v.amount, v.active, JSON.stringify(v.payload)] }); };
const ours = () => c.create(input());
const viaSession = () => { const v = input(); return db.query(sqlText, [v.id.toString(), v.name, v.amount, v.active, JSON.stringify(v.payload)], "sess_insert"); };
const N = Number(process.env.N ?? 20000);
const mode = process.env.MODE ?? "both";
for (let round = 0; round < 6; round++) for (const [label, fn] of [["raw", rawInsert], ["session", viaSession], ["retort", ours]] as const) {
  if (mode !== "both" && mode !== label) continue;
  const cpu = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn();
  const u = process.cpuUsage(cpu);
  console.log(label, "cpu/call µs", ((u.user + u.system) / N).toFixed(1), "wall/call µs", (((performance.now() - t0) * 1000) / N).toFixed(1));
}
await db.close(); await raw.end(); await temp.drop();
