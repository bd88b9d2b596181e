/**
 * Standalone sequences of a Postgres schema (the snapshot has no sequences: a baseline writes
 * them as raw SQL). Identity sequences belong to their column and extension-owned ones to their
 * extension, so both are left out; a sequence owned by a column (serial, `OWNED BY`) names it.
 */
import type { Connection } from "../driver.js";
import { quoteIdent } from "../sql-text.js";

export interface SequenceInfo {
  name: string;
  /** smallint, integer or bigint. */
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  ownedBy?: { table: string; column: string };
}

const SEQUENCES_SQL = `
SELECT c.relname AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type,
       s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min,
       s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
       owner.relname AS owner_table, col.attname AS owner_column
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_catalog.pg_depend dep
  ON dep.classid = 'pg_catalog.pg_class'::regclass AND dep.objid = c.oid
 AND dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.deptype = 'a'
LEFT JOIN pg_catalog.pg_class owner ON owner.oid = dep.refobjid
LEFT JOIN pg_catalog.pg_attribute col ON col.attrelid = dep.refobjid AND col.attnum = dep.refobjsubid
WHERE c.relkind = 'S'
  AND c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1)
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('i', 'e'))
ORDER BY c.relname`;

type SequenceRow = Omit<SequenceInfo, "ownedBy"> & { owner_table: string | null; owner_column: string | null };

export async function readSequences(conn: Connection, schemaName = "public"): Promise<SequenceInfo[]> {
  const { rows } = await conn.query<SequenceRow>(SEQUENCES_SQL, [schemaName]);
  return rows.map((row) => ({
    name: row.name,
    type: row.type,
    start: String(row.start),
    increment: String(row.increment),
    min: String(row.min),
    max: String(row.max),
    cache: String(row.cache),
    cycle: Boolean(row.cycle),
    ...(row.owner_table && row.owner_column ? { ownedBy: { table: row.owner_table, column: row.owner_column } } : {}),
  }));
}

const TYPE_MAX: Record<string, string> = { smallint: "32767", integer: "2147483647", bigint: "9223372036854775807" };

/** The sequence a serial column makes itself: named <table>_<column>_seq, of the column's type, with the default settings. */
export function isSerialSequence(sequence: SequenceInfo, table: string, column: string, type: string): boolean {
  return (
    sequence.name === `${table}_${column}_seq` && sequence.type === type && sequence.start === "1" && sequence.increment === "1" &&
    sequence.min === "1" && sequence.max === TYPE_MAX[type] && sequence.cache === "1" && !sequence.cycle
  );
}

/** CREATE SEQUENCE with only the settings that differ from Postgres's defaults. */
export function createSequenceSql(sequence: SequenceInfo): string {
  const ascending = !sequence.increment.startsWith("-");
  const typeMax = TYPE_MAX[sequence.type] ?? TYPE_MAX.bigint!;
  // Postgres's defaults: 1..type max ascending, type min..-1 descending.
  const defaults = { min: ascending ? "1" : `${-(BigInt(typeMax) + 1n)}`, max: ascending ? typeMax : "-1" };
  const parts = [`CREATE SEQUENCE ${quoteIdent(sequence.name)}`];
  if (sequence.type !== "bigint") parts.push(`AS ${sequence.type}`);
  if (sequence.increment !== "1") parts.push(`INCREMENT BY ${sequence.increment}`);
  if (sequence.min !== defaults.min) parts.push(`MINVALUE ${sequence.min}`);
  if (sequence.max !== defaults.max) parts.push(`MAXVALUE ${sequence.max}`);
  if (sequence.start !== (ascending ? sequence.min : sequence.max)) parts.push(`START WITH ${sequence.start}`);
  if (sequence.cache !== "1") parts.push(`CACHE ${sequence.cache}`);
  if (sequence.cycle) parts.push("CYCLE");
  return parts.join(" ");
}

export function ownSequenceSql(sequence: SequenceInfo): string | undefined {
  return sequence.ownedBy && `ALTER SEQUENCE ${quoteIdent(sequence.name)} OWNED BY ${quoteIdent(sequence.ownedBy.table)}.${quoteIdent(sequence.ownedBy.column)}`;
}
