/**
 * Where `retort squash` keeps the files of the revisions it replaced: `squashed/` inside the
 * migrations folder (the script directory reads only files directly in the folder, so the graph
 * never sees them). They are still needed: a database in the middle of a squashed range is brought
 * to its end by running the rest of them, and a database that applied them is checked against
 * their checksums (verify, current, doctor) instead of being told its files are gone.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { RevisionGraph, loadScriptDirectory, type Revision, type ScriptHeader } from "../script/index.js";

export const ARCHIVE_FOLDER = "squashed";

export function archiveDirectory(migrationsDir: string): string {
  return join(migrationsDir, ARCHIVE_FOLDER);
}

const archives = new Map<string, { key: string; headers: Map<string, ScriptHeader> }>();

/** The archived headers by revision id (empty without an archive). Read again when the folder's listing changes. */
export function archivedRevisions(migrationsDir: string): Map<string, ScriptHeader> {
  const dir = archiveDirectory(migrationsDir);
  if (!existsSync(dir)) return new Map();
  const directory = loadScriptDirectory(dir);
  const key = directory.revisions.map((r) => `${r.revision}:${r.checksum}`).join(",");
  const known = archives.get(dir);
  if (known?.key === key) return known.headers;
  const headers = new Map(directory.revisions.map((r) => [r.revision, r]));
  archives.set(dir, { key, headers });
  return headers;
}

/** Revision id → the squash (in this graph) that replaced it. */
export function replacedBy(graph: RevisionGraph): Map<string, Revision> {
  const out = new Map<string, Revision>();
  for (const revision of graph.revisions) for (const id of revision.replaces ?? []) out.set(id, revision);
  return out;
}

/**
 * A squash keeps the id of the last revision it replaced (so a database at the end of the range is
 * already at the squash and nothing runs). Such a database recorded the old file's checksum: that is
 * not an edit when the archived old file still has it. Once the archive is deleted there is nothing
 * to compare with, and the squash's `replaces` vouches for the old revision.
 */
export function squashAccepts(revision: Revision, recordedChecksum: string): boolean {
  if (!revision.replaces?.includes(revision.revision)) return false;
  const archived = archivedRevisions(dirname(revision.path)).get(revision.revision);
  return archived === undefined || archived.checksum === recordedChecksum;
}

/**
 * A database in the middle of a squashed range (its version table names a replaced revision that is
 * not the squash's own id): the graph as it was before the squash, with the archived files in place
 * of each such squash, and the squashes to upgrade to in it. Running that plan brings the database
 * to the end of the range, which is the squash's id: from there the graph of today takes over.
 * undefined when no current head is such a revision.
 */
export function squashBridge(graph: RevisionGraph, heads: readonly string[]): { graph: RevisionGraph; targets: string[] } | undefined {
  if (heads.every((id) => graph.has(id))) return undefined; // the usual case: nothing to look up
  const squashes = replacedBy(graph);
  const involved = new Map<string, Revision>();
  for (const id of heads) {
    const squash = graph.has(id) ? undefined : squashes.get(id);
    if (squash) involved.set(squash.revision, squash);
  }
  if (involved.size === 0) return undefined;
  const headers: ScriptHeader[] = graph.revisions.filter((r) => !involved.has(r.revision));
  for (const squash of involved.values()) {
    const archive = archivedRevisions(dirname(squash.path));
    for (const id of squash.replaces ?? []) {
      const header = archive.get(id);
      if (!header) return undefined; // the archive is gone: the caller reports the unknown revision
      headers.push(header);
    }
  }
  return { graph: new RevisionGraph(headers), targets: [...involved.keys()] };
}
