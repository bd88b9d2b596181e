/**
 * Backup file names: `<database>--<revision>--<yyyymmddTHHMMSS.mmmZ>.<format extension>`, with the
 * manifest beside it as `<file>.manifest.json`. The name alone says what a backup holds and when
 * it was taken, so listing a folder or a bucket prefix is enough for `latest` and for retention.
 */
import type { Dialect } from "../schema/snapshot.js";

/** How a backup file is written, per backend. */
export type BackupFormat = "pg_dump-custom" | "pglite-datadir-tar-gz" | "sqlite-file";

export const FORMAT_OF: Record<Dialect, BackupFormat> = { postgres: "pg_dump-custom", pglite: "pglite-datadir-tar-gz", sqlite: "sqlite-file" };

const EXTENSION: Record<BackupFormat, string> = { "pg_dump-custom": ".dump", "pglite-datadir-tar-gz": ".pglite.tar.gz", "sqlite-file": ".sqlite" };

export const MANIFEST_SUFFIX = ".manifest.json";

export interface BackupName {
  file: string;
  database: string;
  /** The revision(s) the database was at ("base" before any migration). */
  revision: string;
  takenAt: Date;
  format: BackupFormat;
}

/** Keep names portable across file systems and object stores. */
function safePart(text: string): string {
  return text.replace(/[^A-Za-z0-9_.+-]/g, "_").replace(/-{2,}/g, "-") || "db";
}

/**
 * 2026-12-03T10:24:34.123Z → 20261203T102434.123Z. Milliseconds, so that two backups of the same
 * database taken within one second (a script, a retry) get two names, not one replacing the other.
 */
export function compactTime(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "");
}

export function backupFileName(database: string, heads: readonly string[], takenAt: Date, format: BackupFormat): string {
  const revision = heads.length === 0 ? "base" : [...heads].sort().join("+");
  return `${safePart(database)}--${safePart(revision)}--${compactTime(takenAt)}${EXTENSION[format]}`;
}

export function manifestNameOf(file: string): string {
  return `${file}${MANIFEST_SUFFIX}`;
}

/** Names written before milliseconds were added (…T102434Z) are still backups. */
const NAME = /^(.+)--([^/]+)--(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z(\.dump|\.pglite\.tar\.gz|\.sqlite)$/;

/** What a file name says, or undefined for anything that is not a Retort backup (never touched by prune). */
export function parseBackupName(file: string): BackupName | undefined {
  const match = NAME.exec(file);
  if (!match) return undefined;
  const [, database, revision, y, mo, d, h, mi, s, ms, extension] = match;
  const takenAt = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms ?? 0)));
  if (Number.isNaN(takenAt.getTime())) return undefined;
  const format = (Object.keys(EXTENSION) as BackupFormat[]).find((f) => EXTENSION[f] === extension)!;
  return { file, database: database!, revision: revision!, takenAt, format };
}
