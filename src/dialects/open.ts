/**
 * Open the driver for a connection target. Each backend's module (and its client library) is
 * imported only when used, and none of them loads Kysely: the migration runner and the CLI reach
 * the database through this without paying for the query layer.
 *
 * better-sqlite3 is an optional peer dependency (it compiles from source where no prebuilt binary
 * matches, so only SQLite users should pay for it); a missing client library is reported with the
 * command that installs it rather than as Node's "Cannot find package".
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { PoolerMode } from "../env/postgres-url.js";
import { describeTarget, type ConnectionTarget } from "../env/url.js";
import { RetortError } from "../errors.js";
import type { Schema } from "../schema/snapshot.js";
import type { Driver } from "./driver.js";

export interface OpenOptions {
  /** Postgres pool size. */
  poolSize?: number;
  /** PGlite directory: how long to wait for another process that has it open (default 0). */
  busyTimeoutMs?: number;
  /** Postgres behind a transaction pooler: unnamed statements only. */
  pooler?: PoolerMode;
  /** Read-only commands: a missing SQLite file or PGlite directory is RETORT_DATABASE_NOT_FOUND instead of being created. */
  mustExist?: boolean;
}

export async function openDriver(target: ConnectionTarget, schema: Schema, options: OpenOptions = {}): Promise<Driver> {
  if (options.mustExist) assertExists(target);
  switch (target.dialect) {
    case "postgres": {
      const { createPostgresDriver } = await loadBackend(() => import("./postgres/driver.js"), ["pg"], "postgres:");
      return createPostgresDriver(target.connection, {
        schema,
        ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
        ...(options.pooler === undefined ? {} : { pooler: options.pooler }),
      });
    }
    case "pglite": {
      const { createPgliteDriver } = await loadBackend(() => import("./pglite/driver.js"), ["@electric-sql/pglite"], "pglite:");
      return createPgliteDriver(target.dataDir === undefined ? {} : { dataDir: target.dataDir, ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }) }, { schema });
    }
    case "sqlite": {
      const { createSqliteDriver } = await loadBackend(() => import("./sqlite/driver.js"), ["better-sqlite3"], "sqlite:");
      return createSqliteDriver(target.filename, { schema });
    }
  }
}

/** Opening a missing SQLite file or PGlite directory creates it; a read-only command must say it is missing instead. */
function assertExists(target: ConnectionTarget): void {
  // A server database that does not exist fails to connect by itself (3D000); memory databases are always there.
  const path = target.dialect === "sqlite" ? target.filename : target.dialect === "pglite" ? target.dataDir : undefined;
  if (path === undefined || path === ":memory:" || path === "") return;
  // An empty or half-made PGlite directory would be initialised (tens of MB): it must hold a cluster.
  const present = target.dialect === "pglite" ? existsSync(join(path, "PG_VERSION")) : existsSync(path);
  if (present) return;
  throw new RetortError("RETORT_DATABASE_NOT_FOUND", `No ${target.dialect === "sqlite" ? "SQLite database file" : "PGlite database directory"} at ${resolve(path)} (${describeTarget(target)}); this command reads a database and creates none`, {
    hint: "Check the URL (--url, DATABASE_URL or your environment's variable) for a typo. To create the database, run `retort upgrade head` (or `retort stamp`).",
    details: { url: describeTarget(target), path: resolve(path) },
  });
}

async function loadBackend<T>(load: () => Promise<T>, packages: readonly string[], scheme: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const missing = packages.find((name) => isMissingPackage(error, name));
    if (missing === undefined) throw error;
    throw new RetortError("RETORT_DRIVER_MISSING", `The ${scheme} URL needs the "${missing}" package, which is not installed.`, {
      hint: `Run \`npm install ${missing}\` in your project${missing === "better-sqlite3" ? " (it builds natively where no prebuilt binary matches: a C++ toolchain and Python are needed then)" : ""}.`,
      details: { package: missing },
    });
  }
}

/** Node's "Cannot find package 'x'" for exactly that package (not a module missing inside it). */
function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  return typeof message === "string" && (message.includes(`'${name}'`) || message.includes(`"${name}"`));
}
