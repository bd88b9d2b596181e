/**
 * Kysely, loaded when the first database opens instead of with the library: a models module or
 * a retort.config.ts that imports "retort-db" (every CLI command that reads them) then does not pay
 * for it, ~110 ms a process.
 */
import type * as KyselyModule from "kysely";
import type { kyselyDialectFor } from "../dialects/kysely-bridge.js";

interface KyselyRuntime {
  Kysely: typeof KyselyModule.Kysely;
  sql: typeof KyselyModule.sql;
  dialectFor: typeof kyselyDialectFor;
}

let runtime: Promise<KyselyRuntime> | undefined;
let loaded: KyselyRuntime | undefined;

export function loadKysely(): Promise<KyselyRuntime> {
  runtime ??= Promise.all([import("kysely"), import("../dialects/kysely-bridge.js")]).then(([{ Kysely, sql }, bridge]) => (loaded = { Kysely, sql, dialectFor: bridge.kyselyDialectFor }));
  return runtime;
}

/** Kysely once a database is open (connect() loads it first). */
export function kyselyRuntime(): KyselyRuntime {
  if (!loaded) throw new Error("Kysely is used before any database was opened: open one with connect() first.");
  return loaded;
}
