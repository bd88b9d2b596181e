/**
 * Checksum digests of database histories already computed, by history fingerprint (see
 * readAppliedChecksumDigest): on Postgres the fingerprint costs a fifth of the digest at 10,000
 * history rows, so a no-op `upgrade` or `current` against a history seen before skips the digest.
 * The digest is a function of the rows alone, so one memo serves every database of the project;
 * an entry for a history no database has any more is merely never asked for again.
 */
import { readFileSync } from "node:fs";
import { writeCacheFile } from "../env/file-state.js";

/** Bumped whenever the digest or the fingerprint is computed differently. */
const VERSION = 1;
/** Histories remembered (development, test, a branch's…), newest first. */
const MAX_ENTRIES = 16;

export interface DigestMemo {
  get(fingerprint: string): string | undefined;
  remember(fingerprint: string, digest: string): void;
}

/** The memo kept in `file` (a missing or malformed file is an empty memo). */
export function openDigestMemo(file: string): DigestMemo {
  let entries: Array<[string, string]> | undefined;
  const load = (): Array<[string, string]> => (entries ??= readEntries(file));
  return {
    get: (fingerprint) => load().find(([key]) => key === fingerprint)?.[1],
    remember: (fingerprint, digest) => {
      entries = [[fingerprint, digest] as [string, string], ...load().filter(([key]) => key !== fingerprint)].slice(0, MAX_ENTRIES);
      writeCacheFile(file, JSON.stringify({ version: VERSION, entries }));
    },
  };
}

function readEntries(file: string): Array<[string, string]> {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown; entries?: unknown };
    if (parsed.version !== VERSION || !Array.isArray(parsed.entries)) return [];
    return parsed.entries.filter((entry): entry is [string, string] => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === "string" && typeof entry[1] === "string");
  } catch {
    return [];
  }
}
