/**
 * Behind a real PgBouncer (before 1.21) in transaction mode, where named prepared statements
 * break: with the pooler switch the controllers work; without it the failure is a clear
 * RETORT_TRANSACTION_POOLER naming the switch, not a raw "prepared statement does not exist".
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createAll, isRetortError, type Database, type RetortError } from "../../src/index.js";
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

describe.skipIf(!binary)("the password file (~/.pgpass, PGPASSFILE), against a PgBouncer that asks for a password", () => {
  const PASSWORD = "pgpass-s3cret";
  let temp: TempDatabase;
  let bouncer: PgBouncer;
  let url: URL;
  let folder: string;
  const savedPassFile = process.env.PGPASSFILE;

  beforeAll(async () => {
    temp = await createTempDatabase("retort_pgpass");
    bouncer = await startPgBouncer(binary!, temp.url, 2, PASSWORD);
    url = new URL(bouncer.urlFor(temp.url));
    url.password = "";
    folder = mkdtempSync(join(tmpdir(), "retort-pgpass-"));
  }, 30_000);
  afterAll(async () => {
    if (savedPassFile === undefined) delete process.env.PGPASSFILE;
    else process.env.PGPASSFILE = savedPassFile;
    await bouncer?.stop();
    await temp?.drop();
  });

  async function ping(target: string): Promise<unknown> {
    const db = await connect(target, { schema: {} });
    try {
      return await db.ping();
    } catch (error) {
      return error;
    } finally {
      await db.close();
    }
  }

  function passFile(name: string, lines: string[], mode: number): string {
    const file = join(folder, name);
    writeFileSync(file, `${lines.join("\n")}\n`);
    chmodSync(file, mode);
    return file;
  }

  it("a URL without a password uses the first matching line (wildcards, escapes), as libpq does", async () => {
    const user = decodeURIComponent(url.username) || "postgres";
    process.env.PGPASSFILE = passFile("pgpass", ["# comment", `otherhost:*:*:*:wrong`, `127.0.0.1:${bouncer.port}:*:${user}:${PASSWORD.replace(":", "\\:")}`, "*:*:*:*:wrong-too"], 0o600);
    expect(await ping(url.toString())).toBe(true);
  });

  it("a file others can read is ignored; then the server's question has no answer", async () => {
    const user = decodeURIComponent(url.username) || "postgres";
    process.env.PGPASSFILE = passFile("pgpass-open", [`*:*:*:${user}:${PASSWORD}`], 0o644);
    const error = (await ping(url.toString())) as RetortError;
    expect(isRetortError(error, "RETORT_CONNECTION_FAILED"), String(error)).toBe(true);
    expect(error.message).toMatch(/: the server asked for a password, and none was given$/);
  });

  it("a wrong password in the URL: the password was rejected (and not shown)", async () => {
    const wrong = new URL(url);
    wrong.password = "not-it";
    const error = (await ping(wrong.toString())) as RetortError;
    expect(isRetortError(error, "RETORT_CONNECTION_FAILED"), String(error)).toBe(true);
    expect(error.message).toMatch(/: the password was rejected$/);
    expect(JSON.stringify(error) + error.message + error.hint).not.toContain("not-it");
  });
});
