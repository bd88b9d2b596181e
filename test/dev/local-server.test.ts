/**
 * `retort db up/down/status/url/logs` against the real Postgres binaries of this machine. Run as
 * root (as CI does), the server runs as the unprivileged `postgres` user. Skipped with a notice
 * when the machine has no server binaries.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { LocalServer, projectDatabaseName } from "../../src/dev/local-server.js";
import { findPostgresBinaries } from "../../src/dev/postgres-binaries.js";
import { isRetortError } from "../../src/errors.js";
import { freePort } from "../support/ports.js";

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn("\n[retort tests] NOTICE: not root; the local-server case for a folder the server's user cannot enter is SKIPPED.\n");

let haveBinaries = true;
try {
  findPostgresBinaries(process.cwd());
} catch {
  haveBinaries = false;
  if (process.env.CI) throw new Error("CI needs Postgres server binaries (initdb, pg_ctl) for the local-server tests");
  console.warn("\n[retort tests] NOTICE: no Postgres server binaries on this machine; local-server tests are SKIPPED.\n");
}

/** A project folder the server's user can walk into (the run's temp root is private by default). */
function project(name: string, config: object, packageName = name): string {
  chmodSync(tmpdir(), 0o711);
  const root = mkdtempSync(join(tmpdir(), "local-server-"));
  chmodSync(root, 0o755);
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: packageName }));
  writeFileSync(join(dir, "retort.config.mjs"), `export default ${JSON.stringify(config)};\n`);
  return dir;
}

const started: LocalServer[] = [];
afterAll(() => {
  for (const server of started) {
    server.down();
    rmSync(server.paths.root, { recursive: true, force: true });
  }
});

async function cli(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = join(process.cwd(), "node_modules/.bin/tsx");
  try {
    const { stdout, stderr } = await exec(tsx, [join(process.cwd(), "src/cli/main.ts"), ...args], { cwd, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (failure) {
    const f = failure as { code: number; stdout: string; stderr: string };
    return { code: f.code, stdout: f.stdout, stderr: f.stderr };
  }
}

describe.skipIf(!haveBinaries)("local Postgres server (retort db …)", () => {
  it("up initialises, starts and creates the project's database; a second up is a no-op; down keeps the data", async () => {
    const port = await freePort();
    const dir = project("shop-api", { localServer: { port, durable: false } });
    const server = new LocalServer({ config: { localServer: { port, durable: false } }, root: dir });
    started.push(server);
    expect(server.database).toBe("shop_api");
    expect(server.paths.data).toBe(join(dir, ".retort", "postgres", String(server.binaries.major), "data"));

    const first = await server.up();
    expect(first).toMatchObject({ alreadyRunning: false, initialized: true, createdDatabase: true });
    expect(first.status).toMatchObject({ running: true, port, initialized: true });
    expect(first.status.databases).toContain("shop_api");

    // A real server, as the unprivileged user when we are root, listening on 127.0.0.1 only.
    const client = new pg.Client({ connectionString: server.url() });
    await client.connect();
    const { rows } = await client.query<{ db: string; who: string; addr: string | null; fsync: string }>(
      "SELECT current_database() AS db, current_user AS who, current_setting('listen_addresses') AS addr, current_setting('fsync') AS fsync",
    );
    await client.query("CREATE TABLE kept (id int); INSERT INTO kept VALUES (1), (2)");
    await client.end();
    expect(rows[0]).toEqual({ db: "shop_api", who: "postgres", addr: "127.0.0.1", fsync: "off" });
    if (isRoot) {
      const { stdout } = await exec("ps", ["-o", "user=", "-p", String(first.status.pid)]);
      expect(stdout.trim()).toBe("postgres");
    }

    const second = await server.up();
    expect(second).toMatchObject({ alreadyRunning: true, initialized: false, createdDatabase: false });
    expect(second.status.pid).toBe(first.status.pid);

    // The CLI in that folder: status as JSON, the URL for $(…), the log.
    const status = await cli(dir, "--json", "db", "status");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: first.status.pid, port, url: `postgres://postgres@127.0.0.1:${port}/shop_api` });
    expect((await cli(dir, "db", "url")).stdout).toBe(`postgres://postgres@127.0.0.1:${port}/shop_api\n`);
    expect((await cli(dir, "db", "logs", "-n", "50")).stdout).toContain("database system is ready to accept connections");

    expect(server.down()).toBe(true);
    expect((await server.status()).running).toBe(false);
    expect(server.down()).toBe(false);
    const stopped = await cli(dir, "db", "status");
    expect(stopped.stdout).toMatch(/^not running \(Postgres \d+, port \d+, data [\d.]+ MB in /);

    // Data survives a restart.
    const again = await server.up();
    expect(again).toMatchObject({ alreadyRunning: false, initialized: false, createdDatabase: false });
    const back = new pg.Client({ connectionString: server.url() });
    await back.connect();
    expect((await back.query("SELECT count(*)::int AS n FROM kept")).rows[0]).toEqual({ n: 2 });
    await back.end();
    server.down();
  });

  it("a port in use is a clear error naming who holds it", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const dir = project("busy-port", {});
      const server = new LocalServer({ config: { localServer: { port } }, root: dir });
      started.push(server);
      const error = await server.up().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRetortError(error, "RETORT_PORT_IN_USE")).toBe(true);
      expect((error as Error).message).toContain(`port ${port}`);
      expect((error as Error).message).toContain(`pid ${process.pid}`);
      expect((error as { hint: string }).hint).toContain("localServer.port");
      expect((await server.status()).running).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it.skipIf(!isRoot)("run as root from a folder the server's user cannot enter, the data goes to /var/lib/retort", async () => {
    const port = await freePort();
    const hidden = mkdtempSync(join(tmpdir(), "private-"));
    chmodSync(hidden, 0o700);
    const dir = join(hidden, "secret-app");
    mkdirSync(dir);
    const server = new LocalServer({ config: { localServer: { port, durable: false } }, root: dir });
    started.push(server);
    expect(server.paths.data.startsWith("/var/lib/retort/secret-app-")).toBe(true);
    const up = await server.up();
    expect(up.status.running).toBe(true);
    expect(existsSync(join(server.paths.data, "PG_VERSION"))).toBe(true);
    server.down();
    rmSync(dirname(server.paths.root), { recursive: true, force: true });
  });

  it("database names come from package.json or the folder, as safe identifiers", () => {
    const dir = project("billing", {}, "@acme/Billing-Service");
    expect(projectDatabaseName(dir)).toBe("billing_service");
    const bare = mkdtempSync(join(tmpdir(), "9lives-"));
    expect(projectDatabaseName(bare)).toMatch(/^db_9lives_/);
  });
});
