/**
 * Whole databases for the development workflow: does one exist, create it (as a copy of
 * another: a template clone on Postgres, a folder or file copy for PGlite and SQLite), drop it,
 * and empty it. Postgres statements go through the server's maintenance database (`postgres`).
 */
import { cpSync, existsSync } from "node:fs";
import { dirname } from "node:path";
import type { Driver } from "../dialects/driver.js";
import { acquireProcessLock } from "../dialects/process-lock.js";
import { openDriver } from "../dialects/open.js";
import { quoteIdent, quoteLiteral } from "../dialects/sql-text.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { fileDatabasePath, refuseNonDatabase, removeFileDatabase } from "../dialects/file-database.js";
import { RetortError } from "../errors.js";
import { EMPTY_SCHEMA } from "../schema/snapshot.js";
import { makeDirectory } from "../env/make-directory.js";

/** The database name of a Postgres URL, and the same URL on the maintenance database. */
function postgresParts(url: string): { name: string; admin: string } {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.slice(1)) || "postgres";
  parsed.pathname = "/postgres";
  return { name, admin: parsed.toString() };
}

async function withDriver<T>(url: string, fn: (driver: Driver) => Promise<T>): Promise<T> {
  const driver = await openDriver(parseDatabaseUrl(url), EMPTY_SCHEMA);
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

/** Where a file database lives, or undefined for Postgres and in-memory URLs. */
const location = (url: string) => fileDatabasePath(parseDatabaseUrl(url));

export async function databaseExists(url: string): Promise<boolean> {
  const file = location(url);
  if (file) return existsSync(file.path);
  if (parseDatabaseUrl(url).dialect !== "postgres") return true; // in memory: always there
  const { name, admin } = postgresParts(url);
  return withDriver(admin, async (driver) => (await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_database WHERE datname = ${quoteLiteral(name)}`)).rows[0]!.n > 0);
}

export interface CreatedDatabase {
  /** The database it was copied from, when the copy worked. */
  copiedFrom?: string;
  /** Why it could not be copied (it was created empty instead). */
  copyFailed?: string;
}

/** Create the database of `url`, as a copy of `from` when given and present. */
export async function createDatabase(url: string, from?: string): Promise<CreatedDatabase> {
  const file = location(url);
  const source = from !== undefined && (await databaseExists(from)) ? from : undefined;
  if (file) {
    const sourceFile = source && location(source);
    // The folder it goes in (.retort/pglite/): opening the database creates the rest.
    makeDirectory(dirname(file.path));
    if (!sourceFile) return {};
    if (file.dialect === "pglite") {
      // A folder another process has open could be copied mid-write: copy under its process lock.
      const { PGLITE_LOCK } = await import("../dialects/pglite/driver.js");
      const lock = await acquireProcessLock(PGLITE_LOCK, sourceFile.path, { purpose: "copies the PGlite database", timeoutMs: 10_000 });
      try {
        cpSync(sourceFile.path, file.path, { recursive: true, errorOnExist: true, force: false });
      } finally {
        await lock.release();
      }
    } else {
      // SQLite's backup API copies a consistent snapshot even while another process writes.
      const { default: Sqlite } = await import("better-sqlite3");
      const db = new Sqlite(sourceFile.path, { readonly: true, fileMustExist: true });
      try {
        await db.backup(file.path);
      } finally {
        db.close();
      }
    }
    return { copiedFrom: source };
  }
  if (parseDatabaseUrl(url).dialect !== "postgres") return {};
  const { name, admin } = postgresParts(url);
  return withDriver(admin, async (driver) => {
    if (source) {
      try {
        await driver.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(postgresParts(source).name)}`);
        return { copiedFrom: source };
      } catch (error) {
        // A template must have no other sessions (an app or psql on the parent branch's database).
        const why = (error as Error).message;
        await driver.query(`CREATE DATABASE ${quoteIdent(name)}`);
        return { copyFailed: why };
      }
    }
    await driver.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return {};
  });
}

/** Drop the database of `url` (sessions on it are ended). Returns false when it did not exist. */
export async function dropDatabase(url: string): Promise<boolean> {
  const file = location(url);
  if (file) {
    refuseNonDatabase(file.dialect, file.path, "delete it");
    const existed = existsSync(file.path);
    removeFileDatabase(file.dialect, file.path);
    return existed;
  }
  if (parseDatabaseUrl(url).dialect !== "postgres") {
    throw new RetortError("RETORT_BAD_URL", `${redactUrl(url)} is an in-memory database: there is nothing to drop.`, { hint: "Point --url at a Postgres database, a PGlite folder or a SQLite file." });
  }
  const { name, admin } = postgresParts(url);
  return withDriver(admin, async (driver) => {
    const { rows } = await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_database WHERE datname = ${quoteLiteral(name)}`);
    if (rows[0]!.n === 0) return false;
    await driver.query(`DROP DATABASE ${quoteIdent(name)} WITH (FORCE)`);
    return true;
  });
}

/**
 * Empty a Postgres database's schemas: each is dropped with everything in it and created again
 * with the same owner, grants and comment. Returns the schemas reset.
 */
export async function resetPostgresSchemas(url: string, schemas: readonly string[] = ["public"]): Promise<string[]> {
  return withDriver(url, async (driver) => {
    const conn = await driver.acquire();
    try {
      const { rows } = await conn.query<{ name: string; owner: string; acl: string[] | null; comment: string | null }>(
        `SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text[] AS acl, obj_description(n.oid, 'pg_namespace') AS comment
         FROM pg_namespace n WHERE n.nspname = ANY($1::text[])`,
        [schemas],
      );
      await conn.query("BEGIN");
      try {
        for (const schema of rows) {
          await conn.query(`DROP SCHEMA ${quoteIdent(schema.name)} CASCADE`);
          await conn.query(`CREATE SCHEMA ${quoteIdent(schema.name)} AUTHORIZATION ${quoteIdent(schema.owner)}`);
          for (const statement of grantsFromAcl(schema.name, schema.owner, schema.acl)) await conn.query(statement);
          if (schema.comment !== null) await conn.query(`COMMENT ON SCHEMA ${quoteIdent(schema.name)} IS ${quoteLiteral(schema.comment)}`);
        }
        await conn.query("COMMIT");
      } catch (error) {
        await conn.query("ROLLBACK").catch(() => undefined);
        throw driver.translateError(error);
      }
      return rows.map((r) => r.name);
    } finally {
      conn.release();
    }
  });
}

const PRIVILEGES: Record<string, string> = { U: "USAGE", C: "CREATE" };

/**
 * GRANT statements that restore a schema's ACL ("grantee=UC*\/grantor" items; "*" marks a grant
 * option). A NULL ACL means owner only, which CREATE SCHEMA gives again; the owner's entry is implicit.
 */
export function grantsFromAcl(schema: string, owner: string, acl: readonly string[] | null): string[] {
  const statements: string[] = [];
  for (const item of acl ?? []) {
    const match = /^(.*)=([A-Za-z*]*)\/.*$/.exec(item);
    if (!match || match[1] === owner) continue;
    const grantee = match[1] === "" ? "PUBLIC" : quoteIdent(match[1]!.replace(/^"(.*)"$/, "$1").replace(/""/g, '"'));
    for (const [, letter, option] of match[2]!.matchAll(/([A-Za-z])(\*?)/g)) {
      const privilege = PRIVILEGES[letter!];
      if (privilege) statements.push(`GRANT ${privilege} ON SCHEMA ${quoteIdent(schema)} TO ${grantee}${option ? " WITH GRANT OPTION" : ""}`);
    }
  }
  return statements;
}
