/**
 * How revisions are named in messages: the id, then the message and file so a person can tell
 * candidates apart without opening anything.
 */
import type { ScriptHeader } from "./header.js";

type Described = Pick<ScriptHeader, "revision" | "message" | "path">;

/** `0c3f9a2b7d1e ("add user preferences", migrations/versions/2026…_add_user_preferences.ts)` */
export function describeRevision(revision: Described): string {
  return `${revision.revision} (${JSON.stringify(revision.message)}, ${revision.path})`;
}

/** One revision per line, indented, for lists inside an error message. */
export function describeList(revisions: readonly Described[]): string {
  return revisions.map((revision) => `\n  ${describeRevision(revision)}`).join("");
}

/** The short form used in --json details. */
export function revisionDetails(revision: Described): { revision: string; message: string; path: string } {
  return { revision: revision.revision, message: revision.message, path: revision.path };
}
