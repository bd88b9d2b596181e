/**
 * Open the driver for a connection target. Each backend's module (and its client library) is
 * imported only when used, and none of them loads Kysely: the migration runner and the CLI reach
 * the database through this without paying for the query layer.
 */
import type { ConnectionTarget } from "../env/url.js";
import type { Schema } from "../schema/snapshot.js";
import type { Driver } from "./driver.js";

export interface OpenOptions {
  /** Postgres pool size. */
  poolSize?: number;
  /** PGlite directory: how long to wait for another process that has it open (default 0). */
  busyTimeoutMs?: number;
}

export async function openDriver(target: ConnectionTarget, schema: Schema, { poolSize, busyTimeoutMs }: OpenOptions = {}): Promise<Driver> {
  switch (target.dialect) {
    case "postgres": {
      const { createPostgresDriver } = await import("./postgres/driver.js");
      return createPostgresDriver(target.connection, { schema, ...(poolSize === undefined ? {} : { poolSize }) });
    }
    case "pglite": {
      const { createPgliteDriver } = await import("./pglite/driver.js");
      return createPgliteDriver(target.dataDir === undefined ? {} : { dataDir: target.dataDir, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) }, { schema });
    }
    case "sqlite": {
      const { createSqliteDriver } = await import("./sqlite/driver.js");
      return createSqliteDriver(target.filename, { schema });
    }
  }
}
