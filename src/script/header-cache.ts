/**
 * Parsed headers and checksums of a migrations folder, remembered between runs and keyed by each
 * file's size, inode, mtime and ctime: with it, listing commands and a no-op upgrade stat every
 * file instead of reading and hashing it (10,000 files: ~30 ms instead of ~130 ms).
 *
 * When no file changed, the cache also answers for the revision graph built from them (its
 * `summary`, written after a build that succeeded): a no-op upgrade then builds no graph and
 * reads no header at all.
 *
 * Never stale: see env/file-state.ts. A cache that cannot be read or written is ignored.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { RACY_MS, unchanged, writeCacheFile, type FileState } from "../env/file-state.js";
import type { ScriptHeader } from "./header.js";

/**
 * Version 5 is two lines. The first, the index, is small: the folder's digest (every file name
 * and state) and the graph summary, all a no-op run reads. The second holds the headers in
 * columns (one array per field: at 10,000 files JSON.parse then builds a few dozen arrays
 * instead of 20,000 objects), read and parsed only when a header is asked for.
 */
const VERSION = 5;

/** Enough for any index but one with hundreds of heads (then the whole file is read). */
const INDEX_READ_BYTES = 16 * 1024;

/**
 * An empty list (most revisions' branch labels and depends-on) is written as 0 and read back as
 * this one frozen array: 20,000 fewer arrays to parse and collect at 10,000 files. Frozen, so a
 * mutation would fail loudly rather than change every revision's list.
 */
const NONE = Object.freeze([]) as unknown as string[];
const list = (value: string[] | 0): string[] => (value === 0 ? NONE : value);

type CachedHeader = Omit<ScriptHeader, "path">;

/**
 * What a command that may change nothing needs from the revision graph, true while no file
 * changes: its heads, and the digest of every revision's checksum (script/folder-graph.ts).
 */
export interface GraphSummary {
  heads: Array<{ revision: string; message: string }>;
  appliedDigest: string;
  /**
   * Digests of other databases' checksum lists found in agreement with these files (at their
   * heads, no applied file changed): a stamped or adopted database records no checksum for the
   * revisions it never ran, so its list is not every file's. Newest first, a few at most.
   */
  consistentDigests?: string[];
}

interface CacheIndex {
  version: number;
  writtenAt: number;
  /** folderDigest() of the files the columns hold. */
  folder: string;
  summary: GraphSummary | null;
}

interface CacheColumns {
  names: string[];
  /** size, ino, mtimeMs, ctimeMs of each file, four numbers per name. */
  states: number[];
  revision: string[];
  parents: string[][];
  message: string[];
  createdAt: string[];
  branchLabels: Array<string[] | 0>;
  dependsOn: Array<string[] | 0>;
  transactional: boolean[];
  /** null for an ordinary revision. */
  replaces: Array<string[] | null>;
  checksum: string[];
}

const COLUMNS = ["revision", "parents", "message", "createdAt", "branchLabels", "dependsOn", "transactional", "replaces", "checksum"] as const;

/** One digest of the listing: every name (sorted) and its file's state, in order. */
function folderDigest(names: readonly string[], states: Float64Array): string {
  return createHash("sha256").update(names.join("\n")).update(new Uint8Array(states.buffer, states.byteOffset, states.byteLength)).digest("hex");
}

function wellFormedIndex(parsed: unknown): CacheIndex | undefined {
  const index = parsed as CacheIndex | null;
  if (!index || index.version !== VERSION || typeof index.writtenAt !== "number" || typeof index.folder !== "string") return undefined;
  return index.summary === null || wellFormedSummary(index.summary) ? index : undefined;
}

function wellFormedSummary(summary: GraphSummary | undefined): boolean {
  return (
    typeof summary?.appliedDigest === "string" &&
    (summary.consistentDigests === undefined || (Array.isArray(summary.consistentDigests) && summary.consistentDigests.every((digest) => typeof digest === "string"))) &&
    Array.isArray(summary.heads) &&
    summary.heads.every((head) => typeof head?.revision === "string" && typeof head.message === "string")
  );
}

function wellFormedColumns(parsed: unknown): CacheColumns | undefined {
  const columns = parsed as CacheColumns | null;
  if (!columns || !Array.isArray(columns.names) || !Array.isArray(columns.states)) return undefined;
  const n = columns.names.length;
  if (columns.states.length !== n * 4) return undefined;
  return COLUMNS.every((column) => Array.isArray(columns[column]) && columns[column].length === n) ? columns : undefined;
}

/** The first line of the file and where the second starts, reading no more than the index needs. */
function readIndexLine(file: string): { index: string; rest: number } | undefined {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.allocUnsafe(INDEX_READ_BYTES);
    const read = readSync(fd, head, 0, head.length, 0);
    let end = head.subarray(0, read).indexOf(10);
    if (end >= 0) return { index: head.toString("utf8", 0, end), rest: end + 1 };
    const whole = readFileSync(file);
    end = whole.indexOf(10);
    return end >= 0 ? { index: whole.toString("utf8", 0, end), rest: end + 1 } : undefined;
  } finally {
    closeSync(fd);
  }
}

export class HeaderCache {
  private readonly index: CacheIndex | undefined;
  /** Where the columns line starts in the file. */
  private readonly columnsAt: number;
  private parsedColumns: CacheColumns | null | undefined;
  private indexOfName: Map<string, number> | undefined;
  /** This run's files in listing order: the index of a cached entry still valid, or one (re)read. */
  private readonly entries: Array<number | { name: string; state: FileState; header: CachedHeader }> = [];
  private newSummary: GraphSummary | null | undefined;
  /** Saved as the cache's time: what is read from here on may change within the same clock tick. */
  private readonly openedAt = Date.now();

  private constructor(
    private readonly file: string,
    index: CacheIndex | undefined,
    columnsAt: number,
  ) {
    this.index = index;
    this.columnsAt = columnsAt;
  }

  static open(file: string): HeaderCache {
    try {
      const line = readIndexLine(file);
      const index = line && wellFormedIndex(JSON.parse(line.index));
      if (index) return new HeaderCache(file, index, line.rest);
    } catch {
      // Missing or unreadable: start empty.
    }
    return new HeaderCache(file, undefined, 0);
  }

  /** The graph summary the cache holds, whether or not it still holds (summaryIf's question). */
  get cachedSummary(): GraphSummary | undefined {
    return this.index?.summary ?? undefined;
  }

  /**
   * The graph summary, when `names` (the folder's migration files, sorted) and `states` (four
   * numbers per file, as the columns hold them; NaN: not a regular file) are exactly as cached,
   * and every file settled before the cache was written.
   */
  summaryIf(names: readonly string[], states: Float64Array): GraphSummary | undefined {
    const index = this.index;
    if (!index?.summary) return undefined;
    const before = index.writtenAt - RACY_MS;
    for (let at = 0; at < states.length; at += 4) {
      // NaN fails the comparison too: a name that is not a regular file.
      if (!(Math.max(states[at + 2]!, states[at + 3]!) < before)) return undefined;
    }
    return folderDigest(names, states) === index.folder ? index.summary : undefined;
  }

  /**
   * The header of `name` as cached for exactly this file state, if it can be trusted. `at`: the
   * name's place in the folder's sorted listing, where it usually sits in the cache too.
   */
  get(name: string, at: number, path: string, state: FileState): ScriptHeader | undefined {
    const c = this.columns();
    if (!c) return undefined;
    const i = c.names[at] === name ? at : this.lookup(c, name);
    if (i === undefined || !unchanged(stateAt(c, i), state, this.index!.writtenAt)) return undefined;
    this.entries.push(i);
    // Spelled out: the same object shape readHeader builds.
    return {
      revision: c.revision[i]!,
      parents: c.parents[i]!,
      message: c.message[i]!,
      createdAt: c.createdAt[i]!,
      branchLabels: list(c.branchLabels[i]!),
      dependsOn: list(c.dependsOn[i]!),
      transactional: c.transactional[i]!,
      replaces: c.replaces[i] ?? undefined,
      path,
      checksum: c.checksum[i]!,
    };
  }

  /** A header read from its file (not cached, or changed); call in the listing's order, as `get`. */
  set(name: string, state: FileState, header: ScriptHeader): void {
    const { path: _path, ...cached } = header;
    this.entries.push({ name, state, header: cached });
  }

  /** Remember the graph built from exactly the files this run listed (null: the build failed). */
  setSummary(summary: GraphSummary | null): void {
    this.newSummary = summary;
  }

  /** Write the cache when anything was (re)read, a file went away, or the summary changed. Call after every file went through get or set. */
  save(): void {
    const c = this.columns();
    const same = c !== null && this.entries.length === c.names.length && this.entries.every((entry, i) => entry === i);
    const previous = this.index?.summary ?? null;
    const summary = this.newSummary === undefined ? (same ? previous : null) : this.newSummary;
    if (same && JSON.stringify(summary) === JSON.stringify(previous)) return;
    const out: CacheColumns = { names: [], states: [], revision: [], parents: [], message: [], createdAt: [], branchLabels: [], dependsOn: [], transactional: [], replaces: [], checksum: [] };
    const push = (name: string, state: FileState, header: CachedHeader) => {
      out.names.push(name);
      out.states.push(state.size, state.ino, state.mtimeMs, state.ctimeMs);
      for (const column of COLUMNS) {
        const value: unknown = header[column];
        const empty = (column === "branchLabels" || column === "dependsOn") && Array.isArray(value) && value.length === 0;
        (out[column] as unknown[]).push(empty ? 0 : value);
      }
    };
    for (const entry of this.entries) {
      if (typeof entry === "number") {
        const header = Object.fromEntries(COLUMNS.map((column) => [column, c![column][entry]])) as unknown as CachedHeader;
        push(c!.names[entry]!, stateAt(c!, entry), header);
      } else {
        push(entry.name, entry.state, entry.header);
      }
    }
    // A name with a newline in it would make two listings digest alike: such a folder is never cached.
    if (out.names.some((name) => name.includes("\n"))) return;
    const index: CacheIndex = { version: VERSION, writtenAt: this.openedAt, folder: folderDigest(out.names, new Float64Array(out.states)), summary };
    writeCacheFile(this.file, `${JSON.stringify(index)}\n${JSON.stringify(out)}`);
  }

  private lookup(c: CacheColumns, name: string): number | undefined {
    this.indexOfName ??= new Map(c.names.map((cached, i) => [cached, i]));
    return this.indexOfName.get(name);
  }

  /** The header columns; null without a usable second line (every file is then read). */
  private columns(): CacheColumns | null {
    if (this.parsedColumns === undefined) {
      let parsed: CacheColumns | undefined;
      if (this.index) {
        try {
          parsed = wellFormedColumns(JSON.parse(readFileSync(this.file).toString("utf8", this.columnsAt)));
        } catch {
          // Unusable (or replaced meanwhile): read the files.
        }
      }
      this.parsedColumns = parsed ?? null;
    }
    return this.parsedColumns;
  }
}

function stateAt(c: CacheColumns, i: number): FileState {
  const s = c.states;
  const at = i * 4;
  return { size: s[at]!, ino: s[at + 1]!, mtimeMs: s[at + 2]!, ctimeMs: s[at + 3]! };
}
