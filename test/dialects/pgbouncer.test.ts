/**
 * Behind a real PgBouncer (before 1.21) in transaction mode, where named prepared statements
 * break: with the pooler switch the controllers work; without it the failure is a clear
 * RETORT_TRANSACTION_POOLER naming the switch, not a raw "prepared statement does not exist".
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createAll, isRetortError, type Database } from "../../src/index.js";
import * as schema from "../../examples/community-bot/schema.js";
import { pgbouncerBinary, startPgBouncer, type PgBouncer } from "../support/pgbouncer.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";

const serverUp = await postgresReachable();
const binary = serverUp ? pgbouncerBinary() : undefined;

/** Open `count` transactions at once through PgBouncer, so it has that many server connections to rotate through. */
async function warmServerConnections(url: string, count: number): Promise<void> {
  const clients = Array.from({ length: count }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((client) => client.connect()));
  await Promise.all(clients.map((client) => client.query("BEGIN; SELECT pg_sleep(0.05)")));
  await Promise.all(clients.map(async (client) => {
    await client.query("COMMIT");
    await client.end();
  }));
}

/** get / find / create / update / count, many times: named statements land on several server connections. */
async function workload(db: Database<typeof schema>, base: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const id = BigInt(base + i);
    await db.models.guilds.create({ id, name: `guild ${base + i}` });
    expect(await db.models.guilds.get(id)).toMatchObject({ id, name: `guild ${base + i}` });
    expect(await db.models.guilds.update(id, { name: `renamed ${base + i}` })).toMatchObject({ name: `renamed ${base + i}` });
    const found = await db.models.guilds.find({ where: { name: `renamed ${base + i}` } });
    expect(found.map((row) => row.id)).toEqual([id]);
  }
  expect(await db.models.guilds.count({ id: { gte: BigInt(base), lt: BigInt(base + 20) } })).toBe(20);
}

describe.skipIf(!binary)("behind PgBouncer in transaction mode", () => {
  let temp: TempDatabase;
  let bouncer: PgBouncer;
  let url: string;

  beforeAll(async () => {
    temp = await createTempDatabase("retort_pgbouncer");
    // Three server connections against four statements per round: a named statement soon lands where it was never prepared.
    bouncer = await startPgBouncer(binary!, temp.url, 3);
    url = bouncer.urlFor(temp.url);
    const db = await connect(temp.url, { schema });
    await createAll(db);
    await db.close();
    await warmServerConnections(url, 3);
  }, 30_000);
  afterAll(async () => {
    await bouncer?.stop();
    await temp?.drop();
  });

  it("with ?pooler=transaction, the controllers' get, find, create, update and count work", async () => {
    const db = await connect(`${url}?pooler=transaction`, { schema, poolSize: 2 });
    try {
      await workload(db, 1000);
      await Promise.all([workload(db, 2000), workload(db, 3000)]);
    } finally {
      await db.close();
    }
  });

  it("with connect()'s pooler option, the same", async () => {
    const db = await connect(url, { schema, pooler: "transaction", poolSize: 1 });
    try {
      await workload(db, 4000);
    } finally {
      await db.close();
    }
  });

  it("without the switch: RETORT_TRANSACTION_POOLER with a hint naming it", async () => {
    const db = await connect(url, { schema, poolSize: 1 });
    let error: unknown;
    try {
      await workload(db, 5000);
    } catch (caught) {
      error = caught;
    } finally {
      await db.close();
    }
    expect(isRetortError(error, "RETORT_TRANSACTION_POOLER"), String(error)).toBe(true);
    const failure = error as { message: string; hint: string; details: { sqlstate: string } };
    expect(failure.message).toMatch(/^The server lost track of prepared statement "[^"]+": a connection pooler in transaction mode/);
    expect(failure.hint).toContain('pooler: "transaction"');
    expect(failure.hint).toContain("?pooler=transaction");
    expect(["26000", "42P05"]).toContain(failure.details.sqlstate);
  });
});
