/**
 * `retort-db/testing`: helpers for tests. A fresh in-memory database with the schema created, in
 * one call. (Migrated per-file databases and per-test rollback come with the migration engine.)
 */
import { connect, createAll, type ConnectOptions, type Database } from "../db/database.js";

/** Connect to `url` (default an in-memory SQLite database) and create the schema's tables. */
export async function createTestDatabase<S extends Record<string, unknown>>(
  options: ConnectOptions<S> & { url?: string },
): Promise<Database<S>> {
  const db = await connect(options.url ?? "sqlite::memory:", options);
  await createAll(db);
  return db;
}
