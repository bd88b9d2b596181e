/**
 * Resolving what users type as a target, the way Alembic users expect:
 *
 *   0c3f9a2b7d1e, 0c3f        a revision id, or a unique prefix of at least 4 characters
 *   head, heads, base         the single head, every head, the empty database
 *   current                   the revisions the database is at
 *   billing, billing@head     the revision carrying a branch label; the head of that branch
 *   billing@base, billing@0c3f   that branch's base; a revision of that branch (prefixes match on it only)
 *   +2, -1                    relative to the current revision (one current revision needed)
 *   billing@+2, 0c3f@-1       relative to the current revision of that branch (a revision id names
 *                             the branch it is on); walks stay on that branch
 *   0c3f+1, head-2            relative to a revision
 *   a:b, :b, a:               ranges, for history and offline SQL (see resolveRange)
 *
 * A target resolves to a list of revisions: one for most forms, several for `heads` (or `-1` from
 * a merge, which leaves both parents), none for base.
 */
import { RetortError } from "../errors.js";
import { describeList, revisionDetails } from "./describe.js";
import { TARGET_FORMS, ambiguousPrefix, multipleHeads, quoteTarget, shortTarget, unknownRevision } from "./graph-errors.js";
import type { Revision, RevisionGraph } from "./graph.js";

/** Shortest prefix accepted: shorter ones match too much by accident. */
export const MIN_PREFIX = 4;

const RELATIVE = /^(.*?)([+-])(\d+)$/;

/** A target and, for the `<branch>@…` forms, the branch it was named on. */
export interface ScopedTarget {
  revisions: Revision[];
  /**
   * The revision naming the branch (the one carrying the label, or the revision written before
   * `@`). A downgrade to a scoped target reverts only on that branch, as in Alembic.
   */
  branch?: Revision;
}

/** Resolves a target. `current` are the version-table rows ([] for an empty database). */
export function resolveTarget(graph: RevisionGraph, target: string, current: readonly string[]): Revision[] {
  return resolveScopedTarget(graph, target, current).revisions;
}

/** resolveTarget, also telling the branch of a `<branch>@…` target. */
export function resolveScopedTarget(graph: RevisionGraph, target: string, current: readonly string[]): ScopedTarget {
  const text = target.trim();
  if (text.includes(":")) {
    throw unknownRevision(text, `${quoteTarget(text)} is a range; a range is only accepted by \`retort history -r\` and by --sql runs.`, `Give a single target: ${TARGET_FORMS}.`);
  }
  // Exact names first, so a label such as "v-1" is not read as "v" minus one.
  const exact = exactSymbol(graph, text, current);
  if (exact) return { revisions: exact };

  const at = text.indexOf("@");
  if (at !== -1) return onBranch(graph, text.slice(0, at), text.slice(at + 1), current, text);

  const relative = RELATIVE.exec(text);
  if (relative) {
    const symbol = relative[1]!;
    const steps = Number(relative[3]);
    const fromCurrent = symbol === "";
    const start = fromCurrent ? currentForRelative(graph, current, text) : single(graph, symbol, current, text);
    const origin = fromCurrent ? (start[0] ? `the current revision ${start[0].revision}` : "the empty database") : startName(symbol, start);
    return { revisions: relative[2] === "+" ? walkUp(graph, start, steps, text, origin) : walkDown(start, steps, text, origin, graph) };
  }
  return { revisions: byPrefix(graph, text) };
}

/**
 * Refuses a target that points the wrong way for the command before anything runs: `upgrade -2`
 * would otherwise be "nothing to do" and `downgrade 1` an unknown revision, as in Alembic.
 */
export function checkTargetDirection(graph: RevisionGraph, target: string, direction: "up" | "down"): void {
  const text = target.trim();
  if (graph.has(text) || graph.branchLabels.has(text)) return;
  const command = direction === "up" ? "upgrade" : "downgrade";
  const relative = /^(?:([^@]*)@)?([+-])(\d+)$/.exec(text);
  if (relative) {
    // "head@-1" names no branch whichever way it counts: resolving it says so, with no command to swap to.
    if (relative[1] !== undefined && ["", "base", "head", "heads", "current"].includes(relative[1])) return;
    const wrong = direction === "up" ? "-" : "+";
    if (relative[2] !== wrong) return;
    const flipped = text.replace(/[+-](\d+)$/, `${wrong === "-" ? "+" : "-"}$1`);
    const way = direction === "up" ? "down from the current revision is a downgrade" : "up from the current revision is an upgrade";
    throw new RetortError("RETORT_INVALID_TARGET", `Cannot ${command} to ${quoteTarget(text)}: counting ${way}.`, {
      hint: `Use \`retort ${direction === "up" ? "downgrade" : "upgrade"} ${shortTarget(text)}\`, or \`retort ${command} ${shortTarget(flipped)}\`.`,
      details: { target: shortTarget(text), direction },
    });
  }
  if (/^\d+$/.test(text) && (text.length < MIN_PREFIX || graph.matchPrefix(text).length === 0)) {
    const sign = direction === "up" ? "+" : "-";
    throw new RetortError("RETORT_INVALID_TARGET", `Cannot ${command} to ${quoteTarget(text)}: no migration has this id, id prefix or branch label.`, {
      hint: `To ${command} ${shortTarget(text)} revision(s) from the current one, write \`retort ${command} ${sign}${shortTarget(text)}\`.`,
      details: { target: shortTarget(text), direction },
    });
  }
}

/** The single revision a target names (or null for base); several → RETORT_MULTIPLE_HEADS. */
export function resolveRevision(graph: RevisionGraph, target: string, current: readonly string[] = []): Revision | null {
  const revisions = resolveTarget(graph, target, current);
  if (revisions.length > 1) throw multipleHeads(`Target ${quoteTarget(target)}`, revisions, "Name one of these revisions.");
  return revisions[0] ?? null;
}

/**
 * A resolved range `start:end`, as revision ids. An omitted start is base ([]), an omitted end is
 * every head. For history, start is the older end; for an offline downgrade, start is where the
 * script begins (the newer side) and end its target.
 */
export interface ResolvedRange {
  start: string[];
  end: string[];
}

/** `a:b`, `:b`, `a:` or `:` (either side may be omitted, `base` or `head`, or any other target). */
export function resolveRange(graph: RevisionGraph, range: string, current: readonly string[]): ResolvedRange {
  const colon = range.indexOf(":");
  if (colon === -1) {
    throw unknownRevision(range, `${quoteTarget(range)} is not a range.`, "A range is <start>:<end>, either side optional, e.g. `base:head`, `ae10:`, `:head`, `-3:current`.");
  }
  const startText = range.slice(0, colon).trim();
  const endText = range.slice(colon + 1).trim();
  const idsOf = (revisions: readonly Revision[]) => revisions.map((r) => r.revision);
  return {
    start: startText === "" ? [] : idsOf(resolveTarget(graph, startText, current)),
    end: idsOf(endText === "" ? graph.heads : resolveTarget(graph, endText, current)),
  };
}

/** `retort history [-r a:b]`: revisions newest first. */
export function historyFor(graph: RevisionGraph, range: string | undefined, current: readonly string[] = []): Revision[] {
  if (range === undefined || range.trim() === "") return graph.history();
  const { start, end } = resolveRange(graph, range, current);
  return graph.history({ lower: start, upper: end });
}

/**
 * Checks the version-table rows against the graph: each must be a known revision (a deleted or
 * renamed migration file is reported, with what to do).
 */
export function currentRevisions(graph: RevisionGraph, current: readonly string[]): Revision[] {
  return [...new Set(current)].map((id) => {
    const revision = graph.get(id);
    if (revision) return revision;
    throw unknownRevision(
      id,
      `The database is at revision ${id}, which no migration file defines.`,
      `Restore the migration file for ${id} (it was deleted, renamed to another id, or this is the wrong migrations directory), or overwrite the version table with \`retort stamp <revision> --purge\`.`,
    );
  });
}

/** Keywords, full ids and branch labels; undefined when the text is none of these. */
function exactSymbol(graph: RevisionGraph, text: string, current: readonly string[]): Revision[] | undefined {
  switch (text) {
    case "base":
      return [];
    case "heads":
      return [...graph.heads];
    case "head":
      return [singleHead(graph)];
    case "current":
      return currentRevisions(graph, current);
  }
  const exact = graph.get(text) ?? graph.branchLabels.get(text);
  return exact ? [exact] : undefined;
}

/** A unique id prefix; anything else is unknown. */
function byPrefix(graph: RevisionGraph, text: string): Revision[] {
  if (text.length >= MIN_PREFIX) {
    const matches = graph.matchPrefix(text);
    if (matches.length === 1) return matches;
    if (matches.length > 1) throw ambiguousPrefix(text, matches);
  }
  const tooShort = text.length < MIN_PREFIX && text !== "" && graph.matchPrefix(text).length > 0;
  throw unknownRevision(
    text,
    tooShort
      ? `Unknown revision ${quoteTarget(text)}: no migration has this id or branch label (a prefix needs at least ${MIN_PREFIX} characters).`
      : undefined,
  );
}

/**
 * `<branch>@<what>`: the branch is a label or a revision (the branch it is on); `<what>` is head,
 * heads, base, +N / -N from the database's revision on that branch, a revision of that branch, or
 * one of these followed by +N / -N. Walks stay on the branch at branch points and merges.
 */
function onBranch(graph: RevisionGraph, branchText: string, what: string, current: readonly string[], whole: string): ScopedTarget {
  const branch = branchRoot(graph, branchText, whole);
  const lineage = graph.lineage(branch.revision);
  if (what === "head") return { revisions: [branchHead(graph, branch, branchText)], branch };
  if (what === "heads") return { revisions: graph.heads.filter((head) => lineage.has(head.revision)), branch };
  if (what === "base") return { revisions: [], branch };
  const relative = RELATIVE.exec(what);
  if (relative) {
    const symbol = relative[1]!;
    const steps = Number(relative[3]);
    let start: Revision[];
    let origin: string;
    if (symbol === "") {
      start = currentOnBranch(graph, lineage, current, branchText, whole);
      origin = start[0] ? `the current revision of branch ${branchText} (${start[0].revision})` : `base (nothing of branch ${branchText} is applied)`;
    } else {
      start = onBranch(graph, branchText, symbol, current, whole).revisions;
      if (start.length > 1) throw multipleHeads(`${quoteTarget(`${branchText}@${symbol}`)} (in ${quoteTarget(whole)})`, start, "A relative target counts from one revision: name one of these instead.");
      origin = startName(`${branchText}@${symbol}`, start);
    }
    const revisions = relative[2] === "+" ? walkUp(graph, start, steps, whole, origin, lineage) : walkDown(start, steps, whole, origin, graph, lineage);
    return { revisions, branch };
  }
  return { revisions: [revisionOnBranch(graph, lineage, branchText, what, whole)], branch };
}

/** The revision a branch is named by: the one carrying the label, else a revision id or prefix. */
function branchRoot(graph: RevisionGraph, text: string, whole: string): Revision {
  const labelled = graph.branchLabels.get(text) ?? graph.get(text);
  if (labelled) return labelled;
  if (text === "" || text === "base" || text === "head" || text === "heads" || text === "current") {
    throw unknownRevision(whole, `${quoteTarget(whole)} names no branch: before @ comes a branch label or a revision.`, "Use `head`, `heads` or `base` alone, or `<label>@head`.");
  }
  return byPrefix(graph, text)[0]!;
}

/** `<label>@head`: the head of the branch that grows from the revision carrying the label. */
function branchHead(graph: RevisionGraph, root: Revision, branch: string): Revision {
  const reachable = graph.descendants([root.revision], { dependsOn: false });
  const heads = graph.heads.filter((head) => reachable.has(head.revision));
  if (heads.length > 1) {
    throw multipleHeads(`Branch ${quoteTarget(branch)}`, heads, `Merge them with \`retort merge -m "merge" ${heads.map((h) => h.revision).join(" ")}\`, or name the one you mean.`);
  }
  return heads[0]!;
}

/** `<branch>@<rev>`: an id or prefix, matched among the branch's revisions only. */
function revisionOnBranch(graph: RevisionGraph, lineage: ReadonlySet<string>, branch: string, text: string, whole: string): Revision {
  const exact = graph.get(text);
  const candidates = exact ? [exact] : text.length >= MIN_PREFIX ? graph.matchPrefix(text) : [];
  const matches = candidates.filter((revision) => lineage.has(revision.revision));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw ambiguousPrefix(whole, matches);
  if (candidates.length > 0) {
    return fail(
      `Target ${quoteTarget(whole)}: ${candidates.map((r) => r.revision).join(", ")} ${candidates.length === 1 ? "is" : "are"} not on branch ${branch}.`,
      `\`retort history\` shows which revisions each branch has; drop \`${branch}@\` to name the revision on any branch.`,
    );
  }
  return fail(
    `Unknown target ${quoteTarget(whole)}: after @ comes head, heads, base, +N, -N or a revision of branch ${branch}, and ${quoteTarget(text)} is none of these.`,
    `Targets: ${TARGET_FORMS}.`,
  );

  function fail(message: string, hint: string): never {
    throw new RetortError("RETORT_UNKNOWN_REVISION", message, { hint, details: { target: shortTarget(whole), branch } });
  }
}

/**
 * Where `<branch>@+N` / `<branch>@-N` count from: the database's row on that branch, else (the
 * branch has no row of its own, e.g. another branch was merged over it) its newest applied
 * revision, else base.
 */
function currentOnBranch(graph: RevisionGraph, lineage: ReadonlySet<string>, current: readonly string[], branch: string, whole: string): Revision[] {
  const rows = currentRevisions(graph, current);
  let start = rows.filter((row) => lineage.has(row.revision));
  if (start.length === 0) {
    const applied = graph.ancestors(rows.map((row) => row.revision));
    const onBranch = (id: string) => applied.has(id) && lineage.has(id);
    start = graph.sortTopologically([...applied].filter((id) => onBranch(id) && !graph.require(id).children.some(onBranch)));
  }
  if (start.length > 1) {
    throw multipleHeads(`Branch ${quoteTarget(branch)} in the database`, start, `${quoteTarget(whole)} counts from one revision: count from the one you mean, for example \`${start[0]!.revision}@${whole.slice(whole.indexOf("@") + 1)}\`.`);
  }
  return start;
}

function singleHead(graph: RevisionGraph): Revision {
  if (graph.heads.length === 1) return graph.heads[0]!;
  if (graph.heads.length === 0) {
    throw unknownRevision("head", "There is no head: the migrations directory has no revisions.", "Create the first one with `retort revision -m \"...\"`.");
  }
  throw multipleHeads("The revision graph", graph.heads);
}

/** The start of `<rev>+N` / `<rev>-N`: one revision, or [] for base. */
function single(graph: RevisionGraph, symbol: string, current: readonly string[], whole: string): Revision[] {
  const start = resolveTarget(graph, symbol, current);
  if (start.length > 1) {
    throw multipleHeads(`${quoteTarget(symbol)} (in ${quoteTarget(whole)})`, start, "A relative target counts from one revision: name one of these instead.");
  }
  return start;
}

function currentForRelative(graph: RevisionGraph, current: readonly string[], whole: string): Revision[] {
  const revisions = currentRevisions(graph, current);
  if (revisions.length > 1) {
    throw multipleHeads(
      `The database`,
      revisions,
      `${quoteTarget(whole)} counts from one current revision, so name the branch: for example \`${revisions[0]!.revision}@${shortTarget(whole)}\`.`,
    );
  }
  return revisions;
}

const startName = (symbol: string, start: Revision[]) => (start[0] ? `${symbol} (${start[0].revision})` : "base");

/** N steps towards the heads along parent edges; a branch point on the way is ambiguous. */
function walkUp(graph: RevisionGraph, start: Revision[], steps: number, target: string, origin: string, within?: ReadonlySet<string>): Revision[] {
  let at = start[0];
  for (let step = 1; step <= steps; step++) {
    const next = (at ? at.children.map((id) => graph.get(id)!) : graph.bases).filter((r) => !within || within.has(r.revision));
    if (next.length === 0) {
      const where = !at ? "there are no revisions" : step === 1 ? `${origin} is a head` : `${at.revision} is a head, ${step - 1} revision${step === 2 ? "" : "s"} above ${origin}`;
      throw unknownRevision(target, `Relative target ${quoteTarget(target)} goes past the head: ${where}.`, `Use a smaller step, or \`head\`.`);
    }
    if (next.length > 1) {
      const why = at ? `revision ${at.revision} is a branch point` : "there are several base revisions";
      throw ambiguousWalk(target, `${why}; it continues with any of:`, next, `Name the revision to go to (or \`<rev>+N\` from one of these), or use \`<label>@head\`.`);
    }
    at = next[0];
  }
  return at ? [at] : [];
}

/**
 * N steps towards base along parent edges; a merge point is fine on the last step only (both
 * parents remain). `within` (a branch's lineage) keeps the walk on one branch, here and in walkUp.
 */
function walkDown(start: Revision[], steps: number, target: string, origin: string, graph: RevisionGraph, within?: ReadonlySet<string>): Revision[] {
  let at = start;
  let merge: Revision | undefined;
  for (let step = 1; step <= steps; step++) {
    if (at.length === 0) throw belowBase(target, steps, step - 1, origin);
    if (at.length > 1) {
      throw ambiguousWalk(
        target,
        `below the merge point ${merge!.revision} it could continue on either parent:`,
        at,
        `Count from the parent you mean instead (for example \`${at[0]!.revision}-${steps - step + 1}\`).`,
      );
    }
    merge = at[0]!;
    at = merge.parents.filter((id) => !within || within.has(id)).map((id) => graph.get(id)!);
  }
  return at;
}

function belowBase(target: string, steps: number, available: number, origin: string): RetortError {
  const where =
    available > 0
      ? `${origin} is only ${available} revision${available === 1 ? "" : "s"} above base`
      : origin === "base"
        ? "it starts at base"
        : `${origin} is already at base`;
  return new RetortError("RETORT_BELOW_BASE", `Relative target ${quoteTarget(target)} goes below base: ${where}.`, {
    hint: available === 0 ? "There is nothing below base to go to." : `Use \`base\` to undo every migration, or at most -${available}.`,
    details: { target: shortTarget(target), steps, available },
  });
}

function ambiguousWalk(target: string, why: string, candidates: readonly Revision[], hint: string): RetortError {
  return new RetortError("RETORT_AMBIGUOUS_REVISION", `Relative target ${quoteTarget(target)} is ambiguous: ${why}${describeList(candidates)}`, {
    hint,
    details: { target: shortTarget(target), candidates: candidates.map(revisionDetails) },
  });
}
