/**
 * How the version table changes as revisions are applied one at a time. The table holds the
 * current heads: the applied revisions that no other applied revision builds on (through parents
 * or depends-on), one row each, as in Alembic.
 *
 *   up r:   r's parents and depends-on targets leave the table (a merge replaces several rows by
 *           one), r joins it (the first revision of a new branch adds a row).
 *   down r: r leaves; each parent / depends-on target that nothing else applied builds on comes
 *           back (downgrading a merge restores both parents; below a base the table empties).
 *
 * Each step touches only r's neighbours, so a run of n revisions costs O(n).
 */
import type { Revision, RevisionGraph } from "./graph.js";
import { appliedRevisions } from "./plan.js";
import { currentRevisions, resolveScopedTarget } from "./targets.js";

export type Direction = "up" | "down";

/** A revision by id, or anything carrying its id (a Revision, a ScriptHeader, a runtime file). */
export type StepRevision = string | { readonly revision: string };

/** Rows to delete from and insert into the version table for one step. */
export interface HeadChange {
  removed: string[];
  added: string[];
}

/**
 * Applies one revision to `heads` (mutated) and returns the change. `applied`, when given, is the
 * full set of applied revisions (see appliedRevisions); it is kept up to date and makes a downgrade
 * step O(neighbours). Without it, a downgrade step searches forward from the parent's other
 * children for a current head (cheap except at branch points).
 *
 * Throws a plain Error for steps out of order (a bug in the caller, not a user error).
 */
export function applyStep(heads: Set<string>, step: StepRevision, direction: Direction, graph: RevisionGraph, applied?: Set<string>): HeadChange {
  const revision = graph.require(typeof step === "string" ? step : step.revision);
  const id = revision.revision;
  const below = revision.dependsOn.length ? [...new Set([...revision.parents, ...revision.dependsOn])] : revision.parents;

  if (direction === "up") {
    if (heads.has(id) || applied?.has(id)) throw new Error(`revision ${id} is already applied`);
    const missing = applied && below.find((p) => !applied.has(p));
    if (missing) throw new Error(`revision ${id} cannot be applied before ${missing}`);
    const removed: string[] = [];
    for (const parent of below) if (heads.delete(parent)) removed.push(parent);
    heads.add(id);
    applied?.add(id);
    return { removed, added: [id] };
  }

  if (!heads.delete(id)) throw new Error(`revision ${id} is not a current head; downgrade newest first`);
  applied?.delete(id);
  const added: string[] = [];
  for (const parent of below) {
    if (heads.has(parent) || stillBuiltOn(graph.get(parent)!, id, heads, graph, applied)) continue;
    heads.add(parent);
    added.push(parent);
  }
  return { removed: [id], added };
}

/** The version-table rows after running `revisions` in order from `currentHeads` (topological order). */
export function headsAfter(graph: RevisionGraph, currentHeads: readonly string[], revisions: readonly StepRevision[], direction: Direction): string[] {
  const heads = new Set(currentHeads);
  const applied = appliedRevisions(graph, currentHeads);
  for (const revision of revisions) applyStep(heads, revision, direction, graph, applied);
  return graph.sortTopologically(heads).map((r) => r.revision);
}

/** Does an applied revision other than `leaving` build on `parent`? */
function stillBuiltOn(parent: Revision, leaving: string, heads: Set<string>, graph: RevisionGraph, applied: Set<string> | undefined): boolean {
  const others = [...parent.children, ...parent.dependents].filter((c) => c !== leaving);
  if (applied) return others.some((c) => applied.has(c));
  // Without the applied set: a revision is applied if a remaining head is at or above it, or if
  // it is below the leaving revision (whose ancestors all stay).
  const seen = new Set<string>(others);
  const stack = [...others];
  while (stack.length) {
    const id = stack.pop()!;
    if (heads.has(id) || id === leaving) return true;
    const next = graph.get(id)!;
    for (const above of [...next.children, ...next.dependents]) {
      if (!seen.has(above)) {
        seen.add(above);
        stack.push(above);
      }
    }
  }
  return false;
}

/**
 * The version-table rows after `retort stamp <target>`, as Alembic stamps: each target revision
 * replaces the rows of its own lineage (rows that are its ancestors or descendants, through
 * depends-on too: a row built on what the stamp takes away goes with it), a target on a branch
 * without a row adds one, and the other branches keep theirs. `base` clears
 * the table, `<branch>@base` that branch's row; `purge` starts from an empty table (and accepts
 * rows no file defines). A row that another row builds on is dropped: the table holds heads only.
 */
export function stampHeads(graph: RevisionGraph, current: readonly string[], target: string, options: { purge?: boolean } = {}): string[] {
  const start = options.purge ? [] : currentRevisions(graph, current).map((r) => r.revision);
  const { revisions, branch } = resolveScopedTarget(graph, target, start);
  const rows = new Set(start);
  if (revisions.length === 0) {
    if (!branch) return [];
    const lineage = graph.lineage(branch.revision, { dependsOn: true });
    for (const id of rows) if (lineage.has(id)) rows.delete(id);
  }
  for (const revision of revisions) {
    if (rows.has(revision.revision)) continue;
    const lineage = graph.lineage(revision.revision, { dependsOn: true });
    for (const id of rows) if (lineage.has(id)) rows.delete(id);
    rows.add(revision.revision);
  }
  const below = graph.ancestors(rows, { inclusive: false });
  return [...rows].filter((id) => !below.has(id)).sort(); // as the version table lists them
}
