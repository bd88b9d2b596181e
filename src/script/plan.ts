/**
 * Which revisions an upgrade or a downgrade runs, given what the database has (`current`, the
 * version-table rows) and a target. Both are set differences over precomputed walks: O(n), then a
 * sort of the revisions that run.
 */
import type { Revision, RevisionGraph } from "./graph.js";
import { unknownRevision } from "./graph-errors.js";
import { describeRevision } from "./describe.js";
import { checkTargetDirection, currentRevisions, resolveScopedTarget, type ScopedTarget } from "./targets.js";

/** A target as typed by the user, or already resolved: revisions or their ids ([] = base). */
export type Target = string | readonly (Revision | string)[];

/** Everything the database has: the current revisions and all they build on (depends-on included). */
export function appliedRevisions(graph: RevisionGraph, current: readonly string[]): Set<string> {
  return graph.ancestors(currentRevisions(graph, current).map((r) => r.revision));
}

/**
 * Every revision the target needs (itself, its ancestors and depends-on targets, recursively) that
 * the database does not have yet, parents first.
 */
export function upgradePlan(graph: RevisionGraph, current: readonly string[], target: Target): Revision[] {
  if (typeof target === "string") checkTargetDirection(graph, target, "up");
  const targets = resolve(graph, target, current).revisions;
  const needed = graph.ancestors(targets.map((r) => r.revision));
  for (const id of appliedRevisions(graph, current)) needed.delete(id);
  return graph.sortTopologically(needed);
}

/**
 * Every applied revision that stands above the target through parents (the target's children and
 * what grows from them), and whatever depends on one of those, newest first, as Alembic defines it:
 * a revision that merely depends on the target stays, since the target stays. `base` removes
 * everything; `<branch>@…` targets revert only on that branch. A target the database does not
 * have is refused.
 */
export function downgradePlan(graph: RevisionGraph, current: readonly string[], target: Target): Revision[] {
  if (typeof target === "string") checkTargetDirection(graph, target, "down");
  const { revisions: targets, branch } = resolve(graph, target, current);
  const applied = appliedRevisions(graph, current);
  for (const revision of targets) {
    if (!applied.has(revision.revision)) {
      const at = current.length ? current.join(", ") : "base (nothing applied)";
      throw unknownRevision(
        typeof target === "string" ? target : revision.revision,
        `Cannot downgrade to ${describeRevision(revision)}: the database does not have it (it is at ${at}).`,
        "A downgrade target must be at or below the current revisions: `retort current` shows them and `retort history` the rest. To move to another branch, downgrade to the branch point, then upgrade.",
      );
    }
  }
  let roots = targets.length === 0 ? graph.bases.map((r) => r.revision) : [...new Set(targets.flatMap((r) => r.children))];
  if (branch) {
    const lineage = graph.lineage(branch.revision);
    roots = roots.filter((id) => lineage.has(id));
  }
  const remove = graph.descendants(roots);
  // The targets stay, and so does all they build on (with several targets, one may stand above a root).
  for (const id of graph.ancestors(targets.map((r) => r.revision))) remove.delete(id);
  for (const id of remove) if (!applied.has(id)) remove.delete(id);
  return graph.sortTopologically(remove).reverse();
}

function resolve(graph: RevisionGraph, target: Target, current: readonly string[]): ScopedTarget {
  if (typeof target === "string") return resolveScopedTarget(graph, target, current);
  return { revisions: target.map((item) => (typeof item === "string" ? graph.require(item) : item)) };
}
