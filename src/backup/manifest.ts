/**
 * The manifest written beside every backup (`<file>.manifest.json`): what the file must restore
 * to (revision, every table's row count and checksum) and how to know the file is whole (size,
 * sha256). `retort backup verify` compares a restore against it.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { RetortError } from "../errors.js";
import type { Dialect } from "../schema/snapshot.js";
import type { TableChecksum } from "./checksums.js";
import type { BackupFormat } from "./names.js";

export interface BackupManifest {
  manifestVersion: 1;
  /** The backup file's name (beside this manifest). */
  file: string;
  format: BackupFormat;
  dialect: Dialect;
  database: string;
  /** The Retort revision(s) the database was at: the version table's heads (empty: base). */
  revision: string[];
  serverVersion: string;
  /** The tool that wrote the file ("pg_dump (PostgreSQL) 15.20", "PGlite dumpDataDir", "SQLite online backup API"). */
  tool: string;
  takenAt: string;
  durationMs: number;
  /** The file's size in bytes and sha256: a truncated or damaged file is caught before it is restored. */
  size: number;
  sha256: string;
  tables: TableChecksum[];
}

export async function fileDigest(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { size: statSync(file).size, sha256: hash.digest("hex") };
}

export function readManifest(file: string): BackupManifest {
  if (!existsSync(file)) {
    throw new RetortError("RETORT_BACKUP_NOT_FOUND", `No manifest ${file} beside the backup.`, {
      hint: "Every backup Retort writes has its manifest beside it (<file>.manifest.json); copy or upload them together.",
      details: { file },
    });
  }
  try {
    const manifest = JSON.parse(readFileSync(file, "utf8")) as BackupManifest;
    if (manifest.manifestVersion !== 1 || !Array.isArray(manifest.tables)) throw new Error("not a Retort backup manifest (version 1)");
    return manifest;
  } catch (error) {
    throw new RetortError("RETORT_BACKUP_NOT_FOUND", `The manifest ${file} cannot be read: ${(error as Error).message}.`, {
      hint: "The manifest is damaged; the backup can still be restored with `retort restore`, but not verified.",
      details: { file },
    });
  }
}

export interface TableDifference {
  table: string;
  /** missing: in the manifest, not restored; extra: restored, not in the manifest; rows / checksum: the data differs. */
  kind: "missing" | "extra" | "rows" | "checksum";
  expected?: string | number;
  actual?: string | number;
}

/** Every table whose presence, row count or checksum differs between the manifest and a restore. */
export function compareTables(expected: readonly TableChecksum[], actual: readonly TableChecksum[]): TableDifference[] {
  const restored = new Map(actual.map((t) => [t.table, t]));
  const differences: TableDifference[] = [];
  for (const want of expected) {
    const got = restored.get(want.table);
    if (!got) differences.push({ table: want.table, kind: "missing", expected: want.rows });
    else if (got.rows !== want.rows) differences.push({ table: want.table, kind: "rows", expected: want.rows, actual: got.rows });
    else if (got.checksum !== want.checksum) differences.push({ table: want.table, kind: "checksum", expected: want.checksum, actual: got.checksum });
    restored.delete(want.table);
  }
  for (const extra of restored.values()) differences.push({ table: extra.table, kind: "extra", actual: extra.rows });
  return differences;
}

export function describeDifference(d: TableDifference): string {
  switch (d.kind) {
    case "missing":
      return `table ${d.table} is missing from the restore (the manifest has it with ${d.expected} rows)`;
    case "extra":
      return `table ${d.table} was restored but is not in the manifest (${d.actual} rows)`;
    case "rows":
      return `table ${d.table} has ${d.actual} rows, the manifest says ${d.expected}`;
    case "checksum":
      return `table ${d.table} has the same row count but different data (checksum ${String(d.actual).slice(0, 19)}…, the manifest says ${String(d.expected).slice(0, 19)}…)`;
  }
}
