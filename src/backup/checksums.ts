/**
 * What a backup must reproduce, table by table: the row count and a checksum over the rows in
 * primary-key order. Equal data on the same backend gives equal checksums, before a backup and
 * after its restore, so a restore drill can prove every row came back.
 *
 * - Postgres and PGlite: computed in the database from the md5 of each row's text form (the
 *   whole-row reference cast to text), aggregated in key order (a table without a primary key:
 *   in row-text order), in chunks (see checksumSql). The session settings that change how values
 *   print (time zone, date style, float digits, bytea output) are fixed first.
 * - SQLite: rows streamed in key order (all columns when there is no key) and hashed in JS with
 *   sha256, each value tagged with its storage class so 1, 1.0, '1' and x'31' differ.
 */
import { createHash } from "node:crypto";
import type { Connection } from "../dialects/driver.js";
import { quoteIdent } from "../dialects/sql-text.js";

export interface TableChecksum {
  /** "schema.table" on Postgres and PGlite, the table's name on SQLite. */
  table: string;
  rows: number;
  /** "md5:<hex>" or "sha256:<hex>". */
  checksum: string;
}

export type ChecksumProgress = (done: number, total: number, table: string) => void;

/** Settings that decide how values print as text (time zone, styles, float digits); set for the session first. */
export const POSTGRES_CHECKSUM_SETTINGS = ["SET TIME ZONE 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'", "SET extra_float_digits = 1", "SET bytea_output = 'hex'"];

const USER_TABLES = `
  SELECT n.nspname AS schema_name, c.relname AS table_name,
    (SELECT string_agg('_retort_row.' || quote_ident(a.attname), ', ' ORDER BY k.ord)
       FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = c.oid AND i.indisprimary) AS key_columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 1, 2`;

/** Rows per chunk of the Postgres checksum: its aggregate text stays at 32 bytes × this, whatever the table's size. */
export const CHECKSUM_CHUNK_ROWS = 100_000;

/**
 * md5 over the md5s of chunks of CHECKSUM_CHUNK_ROWS rows, each the md5 over its rows' md5s, all
 * in key order: one string_agg over a whole table would pass Postgres' 1 GB limit on a value at
 * about 30 million rows. The row is `ROW(alias.*)`: a bare alias would mean a column of that
 * name if the table had one.
 */
export function checksumSql(table: string, keyColumns: string | null): string {
  const row = "ROW(_retort_row.*)::text";
  const order = keyColumns ?? row;
  return `SELECT coalesce(sum(rows), 0)::text AS n, md5(coalesce(string_agg(part, '' ORDER BY chunk), '')) AS sum
    FROM (SELECT chunk, count(*) AS rows, md5(string_agg(h, '' ORDER BY pos)) AS part
          FROM (SELECT md5(${row}) AS h, row_number() OVER w AS pos, (row_number() OVER w - 1) / ${CHECKSUM_CHUNK_ROWS} AS chunk
                FROM ${table} AS _retort_row WINDOW w AS (ORDER BY ${order})) numbered
          GROUP BY chunk) parts`;
}

/** Every user table's count and checksum (Postgres and PGlite). The caller has applied POSTGRES_CHECKSUM_SETTINGS. */
export async function postgresChecksums(conn: Connection, progress?: ChecksumProgress): Promise<TableChecksum[]> {
  const { rows: tables } = await conn.query<{ schema_name: string; table_name: string; key_columns: string | null }>(USER_TABLES);
  const result: TableChecksum[] = [];
  for (const [index, table] of tables.entries()) {
    const name = `${table.schema_name}.${table.table_name}`;
    progress?.(index, tables.length, name);
    const { rows } = await conn.query<{ n: string; sum: string }>(checksumSql(`${quoteIdent(table.schema_name)}.${quoteIdent(table.table_name)}`, table.key_columns));
    result.push({ table: name, rows: Number(rows[0]!.n), checksum: `md5:${rows[0]!.sum}` });
  }
  progress?.(tables.length, tables.length, "");
  return result;
}

/** Every table's count and checksum in a SQLite file (opened read-only). */
export async function sqliteChecksums(file: string, progress?: ChecksumProgress): Promise<TableChecksum[]> {
  const { default: Sqlite } = await import("better-sqlite3");
  const db = new Sqlite(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").pluck().all() as string[];
    const result: TableChecksum[] = [];
    for (const [index, table] of tables.entries()) {
      progress?.(index, tables.length, table);
      const columns = db.prepare(`SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`).all(table) as Array<{ name: string; pk: number }>;
      const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      const order = (key.length ? key : columns).map((c) => quoteIdent(c.name)).join(", ");
      const statement = db.prepare(`SELECT * FROM ${quoteIdent(table)} ORDER BY ${order}`).raw(true).safeIntegers(true);
      const hash = createHash("sha256");
      let count = 0;
      for (const row of statement.iterate() as Iterable<unknown[]>) {
        count++;
        for (const value of row) hash.update(taggedValue(value));
        hash.update("\n");
      }
      result.push({ table, rows: count, checksum: `sha256:${hash.digest("hex")}` });
    }
    progress?.(tables.length, tables.length, "");
    return result;
  } finally {
    db.close();
  }
}

/** A SQLite value with its storage class, length-prefixed so no two rows can hash alike by accident. */
function taggedValue(value: unknown): string {
  if (value === null) return "N;";
  if (typeof value === "bigint") return `I${value};`;
  if (typeof value === "number") return `R${Object.is(value, -0) ? "-0" : String(value)};`;
  if (typeof value === "string") return `T${value.length}:${value};`;
  if (Buffer.isBuffer(value)) return `B${value.toString("hex")};`;
  return `?${String(value)};`;
}
