/**
 * pg_dump and pg_restore for a Postgres server: the binaries of the server's major version (a
 * newer pg_dump writes archives an older pg_restore cannot read, an older one refuses a newer
 * server), and the connection handed over through libpq's PG* variables, so no password ever
 * appears on a command line (where `ps` would show it) or in a message.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { listPostgresBinaries, type PostgresBinaries } from "../dev/postgres-binaries.js";
import { passwordFileEntry, postgresPassword, type PostgresConnection } from "../env/postgres-url.js";
import { RetortError, type RetortErrorCode } from "../errors.js";

const DUMP_TOOLS = ["pg_dump", "pg_restore"];

/** pg_dump and pg_restore of the server's major version, or RETORT_POSTGRES_NOT_FOUND saying what was found and how to install the right ones. */
export function findDumpTools(projectRoot: string, serverMajor: number): PostgresBinaries {
  const usable = listPostgresBinaries(projectRoot, DUMP_TOOLS);
  const match = usable.find((b) => b.major === serverMajor);
  if (match) return match;
  const found = usable.length ? `Found only: ${usable.map((b) => `version ${b.major} in ${b.bindir}`).join(", ")}.` : "Found none at all.";
  throw new RetortError("RETORT_POSTGRES_NOT_FOUND", `No pg_dump/pg_restore of version ${serverMajor} (the server's major version) on this machine. ${found}`, {
    hint: `Install the Postgres ${serverMajor} client tools (Debian/Ubuntu: apt install postgresql-client-${serverMajor}, from apt.postgresql.org when your release lacks it; RHEL: dnf install postgresql${serverMajor}; macOS: brew install postgresql@${serverMajor}), then run the command again.`,
    details: { serverMajor, found: usable },
  });
}

/** The environment that points libpq (pg_dump, pg_restore) at `connection`, password included. */
export function libpqEnvironment(connection: PostgresConnection): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: connection.host, PGPORT: String(connection.port), PGUSER: connection.user, PGDATABASE: connection.database, PGSSLMODE: connection.sslmode };
  const password = postgresPassword(connection) ?? passwordFileEntry(connection);
  if (password !== undefined) env.PGPASSWORD = password;
  const optional: Array<[string, string | number | undefined]> = [
    ["PGSSLROOTCERT", connection.sslrootcert],
    ["PGSSLCERT", connection.sslcert],
    ["PGSSLKEY", connection.sslkey],
    ["PGAPPNAME", connection.applicationName ?? "retort backup"],
    ["PGOPTIONS", connection.options],
    ["PGCONNECT_TIMEOUT", connection.connectTimeoutSeconds],
  ];
  for (const [name, value] of optional) if (value !== undefined) env[name] = String(value);
  return env;
}

export interface ToolRun {
  bindir: string;
  tool: "pg_dump" | "pg_restore";
  args: string[];
  env: NodeJS.ProcessEnv;
  /** What fails, for the error: RETORT_BACKUP_FAILED or RETORT_RESTORE_FAILED. */
  failure: RetortErrorCode;
  what: string;
  /** A file whose growth is reported while the tool runs (pg_dump's output). */
  watch?: { file: string; onBytes: (bytes: number) => void };
}

/** Run a Postgres client tool to completion; a non-zero exit is `failure` with the tool's own message. */
export function runTool(run: ToolRun): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${run.bindir}/${run.tool}`, run.args, { env: run.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < 20_000) stderr += chunk;
    });
    const timer = run.watch
      ? setInterval(() => {
          try {
            run.watch!.onBytes(statSync(run.watch!.file).size);
          } catch {
            // not created yet
          }
        }, 500)
      : undefined;
    const done = (error?: Error) => {
      if (timer) clearInterval(timer);
      if (error) reject(error);
      else resolve();
    };
    child.on("error", (error) => done(new RetortError(run.failure, `${run.what}: could not run ${run.tool}: ${error.message}`, { hint: "Check the Postgres client tools installation." })));
    child.on("close", (code, signal) => {
      if (code === 0) return done();
      const said = stderr.trim().split("\n").slice(-8).join("\n");
      done(
        new RetortError(run.failure, `${run.what}: ${run.tool} failed (${signal ? `signal ${signal}` : `exit ${code}`})${said ? `:\n${said}` : ""}`, {
          hint: run.tool === "pg_restore" ? "The file may be truncated or damaged, or not a pg_dump custom-format archive: run `retort backup verify` on it." : "Check that the database user may read every table (pg_dump needs SELECT on all of them).",
          details: { tool: run.tool, exitCode: code },
        }),
      );
    });
  });
}
