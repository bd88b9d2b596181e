/**
 * The introspector contract: read a live database into the neutral schema snapshot, the same
 * shape models produce. Retort's own tables (retort_version, retort_migrations) are left out, and so are the
 * tables `options.tables` leaves out (by default other migration tools' version tables).
 *
 * Introspectors report what the database holds in snapshot terms: logical column types,
 * canonical defaults where the meaning is unambiguous (`now()` → { kind: "now" },
 * `gen_random_uuid()` → { kind: "random-uuid" }, constants → { kind: "literal" }, anything else
 * → { kind: "sql" } with the database's text), and expressions (checks, index expressions,
 * partial-index predicates) as the database prints them. Comparing expressions written by a
 * user with the database's rendering is the differ's job (src/autogenerate/normalize.ts).
 */
import type { Schema } from "../schema/snapshot.js";
import type { TablePredicate } from "../schema/table-filter.js";
import type { Connection } from "./driver.js";

export interface IntrospectOptions {
  /** Tables to leave out besides Retort's own. */
  exclude?: readonly string[];
  /**
   * Which tables to read (the config's include/exclude, see schema/table-filter.ts). Default:
   * every table but other migration tools' version tables.
   */
  tables?: TablePredicate;
  /** Postgres schema to read (default "public"). */
  schemaName?: string;
}

export type Introspector = (conn: Connection, options?: IntrospectOptions) => Promise<Schema>;
