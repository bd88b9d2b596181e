/**
 * Open the driver for a connection target. Each backend's module (and its client library) is
 * imported only when used, and none of them loads Kysely: the migration runner and the CLI reach
 * the database through this without paying for the query layer.
 *
 * better-sqlite3 is an optional peer dependency (it compiles from source where no prebuilt binary
 * matches, so only SQLite users should pay for it); a missing client library is reported with the
 * command that installs it rather than as Node's "Cannot find package".
 */
import { RetortError } from "../errors.js";
import type { ConnectionTarget } from "../env/url.js";
import type { Schema } from "../schema/snapshot.js";
import type { Driver } from "./driver.js";

export async function openDriver(target: ConnectionTarget, schema: Schema, poolSize?: number): Promise<Driver> {
  switch (target.dialect) {
    case "postgres": {
      const { createPostgresDriver } = await loadBackend(() => import("./postgres/driver.js"), ["pg", "pg-copy-streams"], "postgres:");
      return createPostgresDriver(target.url, { schema, ...(poolSize === undefined ? {} : { poolSize }) });
    }
    case "pglite": {
      const { createPgliteDriver } = await loadBackend(() => import("./pglite/driver.js"), ["@electric-sql/pglite"], "pglite:");
      return createPgliteDriver(target.dataDir === undefined ? {} : { dataDir: target.dataDir }, { schema });
    }
    case "sqlite": {
      const { createSqliteDriver } = await loadBackend(() => import("./sqlite/driver.js"), ["better-sqlite3"], "sqlite:");
      return createSqliteDriver(target.filename, { schema });
    }
  }
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
