/**
 * A real Postgres server for one project, without Docker: `retort db up/down/status/url/logs/psql`.
 *
 * - Binaries from the machine (see postgres-binaries.ts); data under `.retort/postgres/<major>/`
 *   next to the config, the server log beside it.
 * - Listens on 127.0.0.1 only (port 5433 by default, so a system server on 5432 is left alone),
 *   trust authentication for local connections, no Unix socket (nothing to collide in /tmp).
 * - Run as root, the server runs as an unprivileged OS user (Postgres refuses root): `postgres`
 *   when it exists, or `localServer.osUser`. When that user cannot reach the project folder
 *   (a project under /root), the data goes to /var/lib/retort/<project>-<hash>/ instead.
 * - Durable by default: a developer's data survives a crash. `durable: false` turns fsync and
 *   friends off for throwaway clusters (tests, CI), which makes DDL-heavy work several times faster.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { LoadedConfig, LocalServerSettings } from "../env/config.js";
import { RetortError } from "../errors.js";
import { findPostgresBinaries, type PostgresBinaries } from "./postgres-binaries.js";
import { portAnswers, portHolder } from "./port-holder.js";
import { makeDirectory } from "../env/make-directory.js";

export const DEFAULT_LOCAL_PORT = 5433;
/** The superuser initdb creates; trust auth on 127.0.0.1, so no password. */
const SUPERUSER = "postgres";

export interface LocalServerPaths {
  /** .retort/postgres/<major> (or the fallback folder when run as root). */
  root: string;
  data: string;
  log: string;
}

export interface LocalServerStatus {
  running: boolean;
  pid?: number;
  port: number;
  version: number;
  /** Bytes on disk under the data folder (0 before the first `db up`). */
  dataBytes: number;
  initialized: boolean;
  dataDirectory: string;
  log: string;
  url: string;
  databases?: string[];
}

export interface UpResult {
  alreadyRunning: boolean;
  initialized: boolean;
  createdDatabase: boolean;
  status: LocalServerStatus;
}

interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export class LocalServer {
  readonly binaries: PostgresBinaries;
  readonly port: number;
  readonly database: string;
  readonly paths: LocalServerPaths;
  private readonly user: ServerUser | undefined;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly settings: LocalServerSettings = loaded.config.localServer ?? {},
    /** Where the cluster lives, instead of under the project (a throwaway test cluster in RAM). */
    paths?: LocalServerPaths,
  ) {
    this.binaries = findPostgresBinaries(loaded.root, settings.version);
    this.port = settings.port ?? DEFAULT_LOCAL_PORT;
    this.database = settings.database ?? projectDatabaseName(loaded.root);
    this.user = isRoot() ? serverUser(settings.osUser) : undefined;
    this.paths = paths ?? this.choosePaths();
  }

  /** The URL of a database on this server (the project's by default). */
  url(database = this.database): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  private choosePaths(): LocalServerPaths {
    const local = join(this.loaded.root, ".retort", "postgres", String(this.binaries.major));
    const inProject = { root: local, data: join(local, "data"), log: join(local, "server.log") };
    if (!this.user || existsSync(inProject.data) || canReach(this.user, this.loaded.root)) return inProject;
    // The server's user cannot open a folder under the project (e.g. /root/app): keep the data where it can.
    const id = `${basename(this.loaded.root).replace(/[^\w.-]/g, "_")}-${createHash("sha256").update(this.loaded.root).digest("hex").slice(0, 8)}`;
    const outside = join("/var/lib/retort", id, String(this.binaries.major));
    return { root: outside, data: join(outside, "data"), log: join(outside, "server.log") };
  }

  /** The running server's pid and port, from postmaster.pid when that process is alive. */
  private running(): { pid: number; port: number | undefined } | undefined {
    let lines: string[];
    try {
      lines = readFileSync(join(this.paths.data, "postmaster.pid"), "utf8").split("\n");
    } catch {
      return undefined;
    }
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
    return { pid, port: Number.isInteger(port) && port > 0 ? port : undefined };
  }

  /** Start the server (initialising the data folder the first time) and create the project's database. */
  async up(onStep: (line: string) => void = () => {}): Promise<UpResult> {
    let initialized = false;
    if (this.running()) {
      return { alreadyRunning: true, initialized, createdDatabase: await this.ensureDatabase(), status: await this.status() };
    }
    if (!existsSync(join(this.paths.data, "PG_VERSION"))) {
      onStep(`initialising a Postgres ${this.binaries.major} cluster in ${this.paths.data}`);
      this.initdb();
      initialized = true;
    }
    if (await portAnswers(this.port)) {
      const holder = portHolder(this.port);
      const who = holder?.pid ? `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ""}` : "another program";
      throw new RetortError("RETORT_PORT_IN_USE", `port ${this.port} on 127.0.0.1 is already in use by ${who}; the local Postgres server cannot start there.`, {
        hint: "Stop that program, or set localServer.port in retort.config.ts to a free port.",
        details: { port: this.port, ...(holder ?? {}) },
      });
    }
    onStep(`starting Postgres ${this.binaries.major} on 127.0.0.1:${this.port}`);
    this.start();
    return { alreadyRunning: false, initialized, createdDatabase: await this.ensureDatabase(), status: await this.status() };
  }

  private initdb(): void {
    // The folders on the way stay readable (the server's user walks through them); the data folder is its own.
    makeDirectory(this.paths.root);
    makeDirectory(this.paths.data, { mode: 0o700 });
    if (this.user) for (const dir of [this.paths.root, this.paths.data]) chownSync(dir, this.user.uid, this.user.gid);
    this.runTool("initdb", ["-D", this.paths.data, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"], "initdb");
  }

  private start(): void {
    const options = [
      `-p ${this.port}`,
      "-c listen_addresses=127.0.0.1",
      "-c unix_socket_directories=''",
      ...(this.settings.durable === false ? ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"] : []),
      ...Object.entries(this.settings.settings ?? {}).map(([key, value]) => `-c ${key}=${quoteSetting(value)}`),
    ];
    if (this.user && !existsSync(this.paths.log)) {
      writeFileSync(this.paths.log, "");
      chownSync(this.paths.log, this.user.uid, this.user.gid);
    }
    this.runTool("pg_ctl", ["-D", this.paths.data, "-l", this.paths.log, "-w", "-t", "60", "-o", options.join(" "), "start"], "pg_ctl start");
  }

  /** Stop the server, keeping its data. Returns false when it was not running. */
  down(): boolean {
    if (!this.running()) return false;
    this.runTool("pg_ctl", ["-D", this.paths.data, "-m", "fast", "-w", "-t", "60", "stop"], "pg_ctl stop");
    return true;
  }

  async status(): Promise<LocalServerStatus> {
    const running = this.running();
    const pid = running?.pid;
    // The port the server listens on may differ from the config after an edit.
    const port = running?.port ?? this.port;
    const status: LocalServerStatus = {
      running: pid !== undefined,
      ...(pid !== undefined ? { pid } : {}),
      port,
      version: this.binaries.major,
      dataBytes: folderSize(this.paths.data),
      initialized: existsSync(join(this.paths.data, "PG_VERSION")),
      dataDirectory: this.paths.data,
      log: this.paths.log,
      url: this.url(),
    };
    if (pid !== undefined) status.databases = await this.query<{ datname: string }>("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname").then((rows) => rows.map((r) => r.datname));
    return status;
  }

  /** Create the project's database when missing; true when it was created. */
  private async ensureDatabase(): Promise<boolean> {
    const rows = await this.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [this.database]);
    if (rows[0]!.n > 0) return false;
    await this.query(`CREATE DATABASE "${this.database.replace(/"/g, '""')}"`);
    return true;
  }

  private async query<R>(text: string, params: unknown[] = []): Promise<R[]> {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ host: "127.0.0.1", port: this.running()?.port ?? this.port, user: SUPERUSER, database: "postgres" });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as R[];
    } finally {
      await client.end();
    }
  }

  /** Run a server tool, as the unprivileged user when we are root; its output goes into the error on failure. */
  private runTool(tool: string, args: string[], what: string): void {
    const path = join(this.binaries.bindir, tool);
    const [command, argv] = this.user ? ["runuser", ["-u", this.user.name, "--", path, ...args]] : [path, args];
    try {
      // With the data outside the project (fallback folder, test cluster), the server's user may not enter our folder either: start the tools from "/".
      execFileSync(command, argv, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", cwd: this.paths.root.startsWith(this.loaded.root) ? undefined : "/" });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      const output = `${stdout ?? ""}${stderr ?? ""}`.trim();
      const logTail = existsSync(this.paths.log) ? readFileSync(this.paths.log, "utf8").trim().split("\n").slice(-8).join("\n") : "";
      throw new RetortError("RETORT_LOCAL_SERVER_FAILED", `${what} failed for the local Postgres server (${this.paths.data}):\n${output}${logTail ? `\nserver log (last lines):\n${logTail}` : ""}`, {
        hint: `See the whole log with \`retort db logs\` (${this.paths.log}).`,
        details: { tool, dataDirectory: this.paths.data },
      });
    }
  }

  /** Spawn psql on a database of this server, attached to this terminal. */
  psql(database = this.database, extraArgs: string[] = []): Promise<number> {
    const psql = existsSync(join(this.binaries.bindir, "psql")) ? join(this.binaries.bindir, "psql") : "psql";
    return new Promise((resolve, reject) => {
      const child = spawn(psql, [this.url(database), ...extraArgs], { stdio: "inherit" });
      child.once("error", (error) =>
        reject(new RetortError("RETORT_POSTGRES_NOT_FOUND", `could not run psql: ${error.message}`, { hint: "Install the Postgres client (apt install postgresql-client)." })),
      );
      child.once("exit", (code) => resolve(code ?? 1));
    });
  }
}

/** The project's database name: its package.json name, else its folder's name, as a safe identifier. */
export function projectDatabaseName(root: string): string {
  let name = basename(root);
  try {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name?: unknown };
    if (typeof manifest.name === "string" && manifest.name) name = manifest.name.replace(/^@[^/]+\//, "");
  } catch {
    // no package.json: the folder's name
  }
  const slug = name.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  return (/^[a-z_]/.test(slug) ? slug : `db_${slug}`).slice(0, 63) || "app";
}

function quoteSetting(value: string | number | boolean): string {
  return typeof value === "string" ? `'${value.replace(/'/g, "''")}'` : String(value);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function serverUser(configured: string | undefined): ServerUser {
  const name = configured ?? "postgres";
  try {
    const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    if (uid === 0) throw new Error("root");
    return { name, uid, gid };
  } catch {
    throw new RetortError("RETORT_LOCAL_SERVER_FAILED", `running as root, the local Postgres server needs an unprivileged OS user, and "${name}" ${configured ? "is not one" : "does not exist"}.`, {
      hint: "Create one (useradd --system postgres) or name an existing unprivileged user in localServer.osUser.",
    });
  }
}

/** Can `user` open files under `dir` (execute permission on every folder on the way)? */
function canReach(user: ServerUser, dir: string): boolean {
  try {
    execFileSync("runuser", ["-u", user.name, "--", "test", "-x", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function folderSize(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const path = join(dir, name);
    try {
      const info = statSync(path);
      total += info.isDirectory() ? folderSize(path) : info.size;
    } catch {
      // removed while we looked (a temp file of the running server)
    }
  }
  return total;
}
