/**
 * The revision graph of a migrations folder, built only when a command needs it. A command that
 * may have nothing to do (a no-op upgrade, `current`) first asks the cache's summary: heads and a
 * digest of every checksum, still true while no file changed. At 10,000 revisions that skips
 * reading 10,000 cached headers and building the graph, most of such a run.
 */
import { hash } from "node:crypto";
import { openScriptFolder } from "./directory.js";
import { RevisionGraph } from "./graph.js";
import type { GraphSummary } from "./header-cache.js";

export type { GraphSummary };

export interface FolderGraph {
  readonly dir: string;
  /** The summary the cache holds, not yet checked against the files (`summary()` does). */
  readonly cachedSummary: GraphSummary | undefined;
  /** The graph's summary from the cache, when every file is unchanged since the graph was last built. */
  summary(): Promise<GraphSummary | undefined>;
  /** The graph (built once; its summary is then cached for the next run). */
  graph(): RevisionGraph;
  /**
   * Remember a database checksum list's digest as agreeing with these files (after graph(); the
   * caller has checked the database against the graph): the summary then settles it too.
   */
  acceptDigest(digest: string): void;
}

/** Databases remembered per summary (development, test, a branch's…). */
const MAX_CONSISTENT_DIGESTS = 8;

/** `background`: see openScriptFolder (the files are stat'ed while the caller waits on its database). */
export function openFolderGraph(dir: string, options: { cacheFile?: string; background?: boolean } = {}): FolderGraph {
  const folder = openScriptFolder(dir, options);
  let graph: RevisionGraph | undefined;
  let built: GraphSummary | undefined;
  return {
    dir,
    cachedSummary: folder.cachedSummary,
    summary: () => folder.summary(),
    graph: () => {
      if (graph) return graph;
      const revisions = folder.revisions();
      try {
        graph = new RevisionGraph(revisions);
      } catch (error) {
        folder.save(null);
        throw error;
      }
      built = summarize(graph);
      // The same heads and checksums make the same graph: what agreed with it still does.
      const cached = folder.cachedSummary;
      if (cached?.consistentDigests && cached.appliedDigest === built.appliedDigest && JSON.stringify(cached.heads) === JSON.stringify(built.heads)) {
        built.consistentDigests = cached.consistentDigests;
      }
      folder.save(built);
      return graph;
    },
    acceptDigest: (digest) => {
      if (!built || digest === built.appliedDigest || built.consistentDigests?.includes(digest)) return;
      built = { ...built, consistentDigests: [digest, ...(built.consistentDigests ?? [])].slice(0, MAX_CONSISTENT_DIGESTS) };
      folder.save(built);
    },
  };
}

function summarize(graph: RevisionGraph): GraphSummary {
  const lines = graph.revisions.map((revision) => `${revision.revision} ${revision.checksum}`).sort();
  return {
    heads: graph.heads.map((head) => ({ revision: head.revision, message: head.message })),
    appliedDigest: checksumListDigest(lines.join("\n")),
  };
}

/**
 * The digest of a checksum list: "<revision> <checksum>" lines sorted by revision, joined by
 * newlines. The database's history gives the same text for the revisions it applied
 * (runtime/status.ts), so equal digests mean every revision ran with the checksum its file has now.
 */
export function checksumListDigest(text: string): string {
  return hash("sha256", text, "hex");
}
