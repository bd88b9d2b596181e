/**
 * The errors a user can cause in the revision graph and in targets. Each says what is wrong and
 * where (revision ids, files), and what to do; `details` carry the same for --json.
 */
import { RetortError } from "../errors.js";
import { describeList, describeRevision, revisionDetails } from "./describe.js";
import type { ScriptHeader } from "./header.js";

type Described = Pick<ScriptHeader, "revision" | "message" | "path">;

export function duplicateRevision(revision: string, first: string, second: string): RetortError {
  return new RetortError("RETORT_DUPLICATE_REVISION", `Revision ${revision} is defined twice: in ${first} and in ${second}.`, {
    hint: "Revision ids must be unique (this often follows copying a migration file). Give one of the two files a new `revision` (for example from `retort revision`) and update any `parents` that meant it.",
    details: { revision, files: [first, second] },
  });
}

export function missingParent(revision: Described, missing: string, field: "parents" | "dependsOn", didYouMean?: string): RetortError {
  const relation = field === "parents" ? "lists parent" : "depends on";
  return new RetortError(
    "RETORT_MISSING_PARENT",
    `${revision.path}: revision ${revision.revision} ${relation} ${missing}, which no migration file defines.`,
    {
      hint:
        (didYouMean === undefined ? "" : `Did you mean ${didYouMean}? (${field} must name full revision ids.) `) +
        `Restore the migration file for ${missing}, or change \`${field}\` in ${revision.path} to an existing revision (\`retort heads\` lists the current heads).`,
      details: { revision: revision.revision, file: revision.path, missing, field },
    },
  );
}

/** `cycle` lists revisions so that each one revises (or depends on) the next; the last closes it. */
export function revisionCycle(cycle: readonly Described[]): RetortError {
  const ids = [...cycle.map((r) => r.revision), cycle[0]!.revision];
  return new RetortError(
    "RETORT_REVISION_CYCLE",
    `The revisions form a cycle: ${ids.join(" → ")} (each arrow points from a revision to a parent or depends-on target).${describeList(cycle)}`,
    {
      hint: "Edit `parents` (or `dependsOn`) in one of these files so that following parents always ends at a base revision (parents: []).",
      details: { cycle: ids, files: cycle.map((r) => r.path) },
    },
  );
}

export function duplicateLabel(label: string, first: Described, second: Described): RetortError {
  return new RetortError(
    "RETORT_BAD_MIGRATION_FILE",
    `Branch label ${JSON.stringify(label)} is used by two revisions: ${describeRevision(first)} and ${describeRevision(second)}.`,
    {
      hint: "A branch label names one revision (and the branch that grows from it). Remove it from one of the two files or rename it.",
      details: { label, revisions: [revisionDetails(first), revisionDetails(second)] },
    },
  );
}

export function labelIsRevisionId(label: string, owner: Described): RetortError {
  return new RetortError(
    "RETORT_BAD_MIGRATION_FILE",
    `${owner.path}: branch label ${JSON.stringify(label)} of revision ${owner.revision} is also a revision id.`,
    { hint: "Rename the label so targets stay unambiguous.", details: { label, file: owner.path, revision: owner.revision } },
  );
}

export const TARGET_FORMS =
  "a revision id or a prefix of at least 4 characters, a branch label, head, heads, base, current, <label>@head, <label>@base, <label>@<rev>, +N / -N (from the current revision), <label>@+N / <label>@-N (from the current revision of that branch; a revision id may stand for the branch), or <rev>+N / <rev>-N";

/** Longest target a message echoes whole: a pasted blob (10,000 characters) is cut to its start. */
const ECHO_LIMIT = 80;

/** A target (or id, label, range) as messages and --json details show it: long ones cut, their length said. */
export function shortTarget(text: string): string {
  return text.length <= ECHO_LIMIT ? text : `${text.slice(0, ECHO_LIMIT - 20)}… (${text.length} characters)`;
}

/** shortTarget in quotes, as messages quote what the user typed. */
export function quoteTarget(text: string): string {
  return text.length <= ECHO_LIMIT ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, ECHO_LIMIT - 20))}… (${text.length} characters)`;
}

/** A target that names nothing; `why` replaces the default message, `hint` the default hint. */
export function unknownRevision(target: string, why?: string, hint?: string): RetortError {
  return new RetortError(
    "RETORT_UNKNOWN_REVISION",
    why ?? `Unknown revision ${quoteTarget(target)}: no migration has this id, id prefix or branch label.`,
    {
      hint: hint ?? `Run \`retort history\` to list the revisions. A target is ${TARGET_FORMS}.`,
      details: { target: shortTarget(target) },
    },
  );
}

export function ambiguousPrefix(target: string, candidates: readonly Described[]): RetortError {
  return new RetortError(
    "RETORT_AMBIGUOUS_REVISION",
    `Revision prefix ${quoteTarget(target)} is ambiguous; it matches ${candidates.length} revisions:${describeList(candidates)}`,
    { hint: "Give more characters of the revision id.", details: { target: shortTarget(target), candidates: candidates.map(revisionDetails) } },
  );
}

/** Several heads where one is needed; `context` says for what (e.g. `"head"`). */
export function multipleHeads(context: string, heads: readonly Described[], hint?: string): RetortError {
  return new RetortError("RETORT_MULTIPLE_HEADS", `${context} has ${heads.length} heads where one is needed:${describeList(heads)}`, {
    hint:
      hint ??
      `Merge them with \`retort merge -m "merge" heads\`, or name the one you mean (for example \`${heads[0]?.revision ?? "<rev>"}\`), or use \`heads\` for all of them.`,
    details: { heads: heads.map(revisionDetails) },
  });
}
