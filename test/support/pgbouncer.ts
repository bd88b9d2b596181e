/**
 * A real PgBouncer in transaction mode in front of the test server, on a free port, for one test
 * file. As root it runs as the unprivileged `postgres` user (else `nobody`). When pgbouncer is not
 * installed the cases are skipped with a visible notice, except under CI, where that is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export function pgbouncerBinary(): string | undefined {
  for (const candidate of ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"]) if (existsSync(candidate)) return candidate;
  const found = spawnSync("sh", ["-c", "command -v pgbouncer"], { encoding: "utf8" }).stdout.trim();
  if (found) return found;
  if (process.env.CI) throw new Error("CI needs pgbouncer (apt-get install -y pgbouncer; .ci/run installs it)");
  console.warn("\n[retort tests] NOTICE: pgbouncer is not installed; the transaction-pooler cases are SKIPPED (apt-get install -y pgbouncer).\n");
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ["postgres", "nobody"]) {
    const uid = spawnSync("id", ["-u", user], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", user], { encoding: "utf8" });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  throw new Error("running as root, and neither a postgres nor a nobody user exists to run pgbouncer as");
}

export interface PgBouncer {
  port: number;
  /** The server URL with host and port replaced by PgBouncer's. */
  urlFor(serverUrl: string): string;
  stop(): Promise<void>;
}

/** Start PgBouncer (transaction mode, round-robin over `poolSize` server connections) in front of `serverUrl`. */
export async function startPgBouncer(binary: string, serverUrl: string, poolSize = 4): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const ids = unprivilegedIds();
  // The test run's own temp folder is root's alone (0700): the unprivileged user needs one it can reach.
  const dir = mkdtempSync(join(ids ? "/tmp" : tmpdir(), "retort-pgbouncer-"));
  const port = await freePort();
  const user = decodeURIComponent(server.username) || "postgres";
  writeFileSync(join(dir, "userlist.txt"), `"${user}" ""\n`);
  writeFileSync(
    join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${server.hostname} port=${server.port || 5432}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${join(dir, "userlist.txt")}`,
      "pool_mode = transaction",
      `default_pool_size = ${poolSize}`,
      "server_round_robin = 1",
      `logfile = ${join(dir, "pgbouncer.log")}`,
      "ignore_startup_parameters = extra_float_digits,options",
      "",
    ].join("\n"),
  );
  chmodSync(dir, 0o755);
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const child: ChildProcess = spawn(binary, [join(dir, "pgbouncer.ini")], { stdio: "ignore", ...(ids ?? {}) });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(dir, "pgbouncer.log")) ? readFileSync(join(dir, "pgbouncer.log"), "utf8") : "";
      child.kill("SIGKILL");
      throw new Error(`pgbouncer did not start on port ${port}:\n${log}`);
    }
    await sleep(50);
  }
  return {
    port,
    urlFor(url: string) {
      const through = new URL(url);
      through.hostname = "127.0.0.1";
      through.port = String(port);
      return through.toString();
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(5000).then(() => child.kill("SIGKILL"))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
