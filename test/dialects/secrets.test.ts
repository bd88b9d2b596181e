/**
 * No Retort object shows a password: not as an enumerable property (walked deeply), not through
 * util.inspect (what console.log prints), not through JSON.stringify, not in an error. Each object
 * is made from a password-bearing URL on the Postgres server.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, current, explainDatabaseUrl, loadConfig, parseDatabaseUrl, upgrade, type Database } from "../../src/index.js";
import { createPostgresDriver } from "../../src/dialects/postgres/driver.js";
import { openDriver } from "../../src/dialects/open.js";
import { isRetortError } from "../../src/errors.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "../support/postgres.js";
import * as communityBot from "../../examples/community-bot/schema.js";

const serverUp = await postgresReachable();
const SECRET = "Sup3r-s3cret";

/** Every string reachable through enumerable own properties (cycles and functions skipped). */
function enumerableStrings(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === "string") return [value];
  if (typeof value !== "object" || value === null || seen.has(value)) return [];
  seen.add(value);
  const entries = value instanceof Map ? [...value.keys(), ...value.values()] : Object.values(value);
  return entries.flatMap((child) => enumerableStrings(child, seen));
}

function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[cycle]";
      seen.add(v);
    }
    return v;
  });
}

function expectNoSecret(what: string, value: unknown): void {
  expect(inspect(value, { depth: Infinity }), `${what}: util.inspect`).not.toContain(SECRET);
  expect(safeJson(value) ?? "", `${what}: JSON.stringify`).not.toContain(SECRET);
  expect(enumerableStrings(value).filter((text) => text.includes(SECRET)), `${what}: enumerable properties`).toEqual([]);
  if (value instanceof Error) {
    expect(`${value.message} ${value.stack} ${String(value)}`, `${what}: message and stack`).not.toContain(SECRET);
    expect(inspect(value.cause, { depth: Infinity }), `${what}: cause`).not.toContain(SECRET);
  }
}

async function caught(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe.skipIf(!serverUp)("no password in any Retort object (Postgres server)", () => {
  let temp: TempDatabase;
  let url: string;
  let db: Database<typeof communityBot>;

  beforeAll(async () => {
    temp = await createTempDatabase("retort_secrets");
    const withPassword = new URL(temp.url);
    withPassword.password = SECRET;
    url = withPassword.toString();
    db = await connect(url, { schema: communityBot });
    await db.ping();
  });
  afterAll(async () => {
    await db?.close();
    await temp?.drop();
  });

  it("the URL given really carries the password (so the checks below can fail)", () => {
    expect(url).toContain(`:${SECRET}@`);
  });

  it("Database, its target, driver and Kysely instance", async () => {
    expectNoSecret("Database", db);
    expectNoSecret("db.target", db.target);
    expect(db.target).toMatchObject({ dialect: "postgres", url: url.replace(SECRET, "***") });
    expectNoSecret("db.driver", db.driver);
    expectNoSecret("db.kysely", db.kysely);
    await db.transaction(async (tx) => expectNoSecret("transaction", tx));
    expectNoSecret("parseDatabaseUrl", parseDatabaseUrl(url));
  });

  it("a driver opened directly, and one opened from a target", async () => {
    const direct = createPostgresDriver(url, { schema: { tables: [], enums: [] } });
    const opened = await openDriver(parseDatabaseUrl(url), { tables: [], enums: [] });
    try {
      await direct.query("SELECT 1");
      await opened.query("SELECT 1");
      expectNoSecret("createPostgresDriver", direct);
      expectNoSecret("openDriver", opened);
    } finally {
      await direct.close();
      await opened.close();
    }
  });

  it("connection errors: refused port, missing database, SSL refused, bad URL", async () => {
    const refused = new URL(url);
    refused.port = "1";
    const missing = new URL(url);
    missing.pathname = "/retort_no_such_db";
    const failures = [
      await caught(connect(refused.toString(), { schema: {} }).then((d) => d.ping().finally(() => d.close()))),
      await caught(connect(missing.toString(), { schema: {} }).then((d) => d.ping().finally(() => d.close()))),
      await caught(connect(`${url}?sslmode=require`, { schema: {} }).then((d) => d.ping().finally(() => d.close()))),
      await caught(() => parseDatabaseUrl(`${url}?sslmode=sometimes`)),
      await caught(() => parseDatabaseUrl(url.replace("@", "@bad host"))),
    ];
    expect(failures.map((error) => (isRetortError(error) ? error.code : String(error)))).toEqual([
      "RETORT_CONNECTION_FAILED",
      "RETORT_CONNECTION_FAILED",
      "RETORT_CONNECTION_FAILED",
      "RETORT_BAD_URL",
      "RETORT_BAD_URL",
    ]);
    failures.forEach((error, i) => expectNoSecret(`failure ${i}`, error));
  });

  it("a constraint violation from a query", async () => {
    const error = await caught(db.query("SELECT 1/0"));
    expectNoSecret("query error", error);
  });

  it("a loaded config holding the URL, the resolver's explanation, and migration results", async () => {
    const root = mkdtempSync(join(tmpdir(), "retort-secrets-"));
    mkdirSync(join(root, "migrations"));
    writeFileSync(join(root, "retort.config.mjs"), `export default { url: ${JSON.stringify(url)}, migrations: { directory: "migrations", importFrom: ${JSON.stringify(resolve("src/index.ts"))} } };\n`);
    const loaded = await loadConfig(undefined, root);
    expect(loaded.config.url).toBe(url);
    expectNoSecret("loaded config", loaded);
    const choice = explainDatabaseUrl({ config: loaded, environment: { NODE_ENV: "production" } });
    expect(choice).toMatchObject({ source: "config url", url: url.replace(SECRET, "***") });
    expectNoSecret("explainDatabaseUrl", choice);
    const upgraded = await caught(upgrade("head", { config: loaded, env: "production" }));
    expectNoSecret("upgrade error", upgraded);
    expectNoSecret("current()", await current({ config: loaded, env: "production" }));
  });
});
