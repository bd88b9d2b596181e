/**
 * The CLI as a user runs it: which database each command picks, that it says so (masked), that a
 * missing URL outside development is an error, and that read-only commands create nothing.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import Sqlite from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { postgresReachable, serverUrl } from "../support/postgres.js";

const exec = promisify(execFile);
const TSX = resolve("node_modules/.bin/tsx");
const MAIN = resolve("src/cli/main.ts");
const MODELS = resolve("examples/community-bot/schema.ts");
const serverUp = await postgresReachable();

/** The parent's environment without anything that names a database or an environment. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/DATABASE_URL$|^NODE_ENV$|^RETORT_ENV$|^PG[A-Z]+$/.test(key)) continue;
    env[key] = value;
  }
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function retort(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(TSX, [MAIN, ...args], { cwd, timeout: 60_000, env: { ...cleanEnvironment(), ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function errorOf(run: Run): { code: string; message: string; hint?: string } {
  return (JSON.parse(run.stderr.slice(run.stderr.indexOf("{"))) as { error: { code: string; message: string; hint?: string } }).error;
}

/** A project folder with a config and an empty migrations folder. */
function project(): string {
  const root = mkdtempSync(join(tmpdir(), "retort-urls-"));
  mkdirSync(join(root, "migrations"));
  writeFileSync(join(root, "retort.config.mjs"), `export default { migrations: { directory: "migrations", importFrom: ${JSON.stringify(resolve("src/index.ts"))} } };\n`);
  return root;
}

describe("no silent fallback to the embedded database", () => {
  for (const env of [{ NODE_ENV: "production" }, { RETORT_ENV: "staging" }] as Array<Record<string, string>>) {
    it.concurrent(`${JSON.stringify(env)} without a URL: upgrade fails with RETORT_NO_DATABASE_URL and creates nothing`, async () => {
      const root = project();
      const run = await retort(root, env, "--json", "upgrade", "head");
      expect(run.code).toBe(1);
      const error = errorOf(run);
      expect(error.code).toBe("RETORT_NO_DATABASE_URL");
      const variable = "NODE_ENV" in env ? "$PROD_DATABASE_URL" : "$STAGING_DATABASE_URL";
      expect(error.message).toContain(`looked at --url, $DATABASE_URL, ${variable}, the config's url (${join(root, "retort.config.mjs")})`);
      expect(existsSync(join(root, ".retort"))).toBe(false);
    });
  }

  it.concurrent("ping, create-all and drop-all follow the same resolver as the migration commands", async () => {
    const root = project();
    const prod = join(root, "prod.db");
    const created = await retort(root, { NODE_ENV: "production", PROD_DATABASE_URL: `sqlite:${prod}` }, "--json", "create-all", MODELS);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ action: "create", url: `sqlite:${prod}` });
    const db = new Sqlite(prod);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'members'").get()).toEqual({ n: 1 });
    db.close();
    const pinged = await retort(root, { PROD_DATABASE_URL: `sqlite:${prod}` }, "--env", "production", "ping");
    expect(pinged.code).toBe(0);
    expect(pinged.stdout).toMatch(new RegExp(`^sqlite:${prod.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} answers \\(sqlite, \\d+ ms\\)\\n$`));
    const missing = await retort(root, { NODE_ENV: "production" }, "--json", "ping");
    expect(errorOf(missing).code).toBe("RETORT_NO_DATABASE_URL");
  });
});

describe("read-only commands create nothing", () => {
  it.concurrent("current, history --indicate-current and drift on a missing SQLite file or PGlite directory: RETORT_DATABASE_NOT_FOUND", async () => {
    const root = project();
    const typo = join(root, "typo.db");
    const dir = join(root, "pglite-typo");
    for (const [url, path] of [[`sqlite:${typo}`, typo], [`pglite:${dir}`, dir]] as const) {
      for (const args of [["current"], ["history", "--indicate-current"], ["drift"]]) {
        const run = await retort(root, {}, "--json", "--url", url, ...args);
        expect(run.code, `${args.join(" ")} ${url}`).toBe(1);
        const error = errorOf(run);
        expect(error.code).toBe("RETORT_DATABASE_NOT_FOUND");
        expect(error.message).toContain(`at ${path} (${url}); this command reads a database and creates none`);
        expect(error.hint).toContain("retort upgrade head");
        expect(existsSync(path)).toBe(false);
      }
    }
    // upgrade may create; then current reads it and names it.
    expect((await retort(root, {}, "revision", "-m", "first", "--rev-id", "aaaa00000001")).code).toBe(0);
    expect((await retort(root, {}, "--url", `sqlite:${typo}`, "upgrade", "head")).stdout).toBe(`upgraded 1 revision(s) on sqlite:${typo}: base -> aaaa00000001\n`);
    const current = await retort(root, { NO_COLOR: "1" }, "--url", `sqlite:${typo}`, "current");
    expect(current).toMatchObject({ code: 0, stdout: `sqlite:${typo}:\naaaa00000001 (head) first\n` });
  });
});

describe.skipIf(!serverUp)("Postgres URLs from the CLI", () => {
  const server = new URL(serverUrl);

  it.concurrent("says which database it used with the password masked, in text and --json", async () => {
    const withPassword = new URL(serverUrl);
    withPassword.password = "hunter2";
    const text = await retort(tmpdir(), { DATABASE_URL: withPassword.toString() }, "ping");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`postgres://${server.username}:***@${server.host}`);
    const json = await retort(tmpdir(), { DATABASE_URL: withPassword.toString() }, "--json", "ping");
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, url: withPassword.toString().replace("hunter2", "***") });
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(out).not.toContain("hunter2");
  });

  it.concurrent("?sslmode=require against a server without SSL: RETORT_CONNECTION_FAILED, two lines, no pg warning, no stack", async () => {
    const url = `postgres://${server.username}@${server.host}/postgres?sslmode=require`;
    const run = await retort(tmpdir(), { NO_COLOR: "1" }, "ping", "--url", url);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `error RETORT_CONNECTION_FAILED: Could not connect to Postgres at ${server.host} (database "postgres", user "${server.username}"): the server does not accept SSL connections, and sslmode=require requires SSL\n` +
        "hint: Use sslmode=prefer (SSL when the server offers it) or sslmode=disable for this server, or enable ssl in the server's postgresql.conf.\n",
    );
  });

  it.concurrent("the libpq Unix-socket form connects, and a missing socket is RETORT_CONNECTION_FAILED", async () => {
    const socket = await retort(tmpdir(), {}, "--json", "ping", "--url", `postgresql://${server.username}@/postgres?host=/var/run/postgresql`);
    expect(socket.code, socket.stderr).toBe(0);
    expect(JSON.parse(socket.stdout)).toMatchObject({ ok: true, dialect: "postgres", url: `postgresql://${server.username}@/postgres?host=/var/run/postgresql` });
    const missing = await retort(tmpdir(), { NO_COLOR: "1" }, "ping", "--url", `postgresql://${server.username}@%2Fnonexistent%2Fsocket-dir/postgres`);
    expect(missing.code).toBe(1);
    expect(missing.stderr.split("\n")[0]).toBe(
      `error RETORT_CONNECTION_FAILED: Could not connect to Postgres at socket /nonexistent/socket-dir/.s.PGSQL.5432 (database "postgres", user "${server.username}"): no server socket there (ENOENT)`,
    );
    expect(missing.stderr).not.toMatch(/^\s+at /m);
  });
});
