import { t, table, timestamps } from "../../dist/index.js";
import { validate } from "../../dist/model/validation.js";
const events = table("bench_events", { id: t.bigint().primaryKey(), name: t.text(), amount: t.integer(), active: t.boolean(), payload: t.jsonb<{ tag: string; n: number }>(), ...timestamps() });
let id = 1;
const input = () => ({ id: BigInt(id++), name: "insert", amount: 7, active: true, payload: { tag: "ins", n: 1 } });
for (let r = 0; r < 5; r++) {
  const N = 200000;
  let t0 = performance.now();
  for (let i = 0; i < N; i++) input();
  const base = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < N; i++) validate(events as any, "insert", input());
  console.log("validate µs", (((performance.now() - t0 - base) * 1000) / N).toFixed(2));
}
