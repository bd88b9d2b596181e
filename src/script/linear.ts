/**
 * The `migrations.linear` policy: the revision graph is one line, one head. A check the commands
 * that could add a head (revision, merge) or would run a branched graph (upgrade) call, and the
 * linter too: it reads only the graph.
 */
import { RetortError } from "../errors.js";
import type { RevisionGraph } from "./graph.js";

/** The heads the graph has (or would have with `extraHead` added), when they are more than one. */
export function nonLinearHeads(graph: RevisionGraph, extraHead?: { revision: string; parent: string | undefined }): string[] {
  const heads = graph.heads.map((head) => head.revision);
  if (extraHead) {
    // A new revision on a head replaces it; anywhere else (a splice, a second base) it is one more.
    const onHead = extraHead.parent !== undefined && heads.includes(extraHead.parent);
    const next = onHead ? heads.map((id) => (id === extraHead.parent ? extraHead.revision : id)) : graph.size === 0 ? [extraHead.revision] : [...heads, extraHead.revision];
    return next.length > 1 ? next : [];
  }
  return heads.length > 1 ? heads : [];
}

/**
 * RETORT_NOT_LINEAR naming the heads when the graph is not one line. `command` says what was
 * refused ("revision", "merge", "upgrade", "lint").
 */
export function assertLinear(graph: RevisionGraph, command: string, extraHead?: { revision: string; parent: string | undefined }): void {
  const heads = nonLinearHeads(graph, extraHead);
  if (heads.length === 0) return;
  const described = heads.map((id) => (graph.has(id) ? `${id} (${graph.require(id).message})` : `${id} (the new revision)`));
  throw new RetortError("RETORT_NOT_LINEAR", `migrations.linear is set and ${command} ${extraHead ? "would leave" : "finds"} ${heads.length} heads: ${described.join(", ")}`, {
    hint: extraHead
      ? "Build on the head (`retort revision -m …` without --splice/--head), or turn migrations.linear off."
      : "Rebase instead of merging: set the `parents` of your newer revision to the other head so the history is one line again (`retort heads` lists them), or turn migrations.linear off.",
    details: { heads, command },
  });
}
