/**
 * A revision whose last run stopped part-way (steps outside a transaction committed, the rest
 * not) is neither applied nor unapplied: its schema matches no revision. The only run that may
 * follow is that same run, resumed. Any other (a downgrade below a half-applied upgrade, an
 * upgrade over a half-reverted downgrade) would run its SQL over a state no migration was written
 * for, so it is refused, with the two ways out: finish the run, or repair the database by hand
 * and say so with `retort stamp`, which settles the unfinished run (a history row records it).
 */
import type { Connection } from "../dialects/driver.js";
import { quoteLiteral } from "../dialects/sql-text.js";
import { RetortError } from "../errors.js";
import type { SqlFamily } from "../schema/snapshot.js";
import { shortTarget, type RevisionGraph } from "../script/index.js";
import type { PlannedRevision } from "./plan.js";
import { readVersionState, type UnfinishedRevision } from "./status.js";
import { HISTORY_TABLE } from "./version-table.js";

/** `resume` is the executor's map of unfinished runs ("<revision>:<direction>" → steps done). */
export async function refuseOverUnfinished(
  conn: Connection,
  family: SqlFamily,
  resume: ReadonlyMap<string, number>,
  plan: readonly PlannedRevision[],
  graph: RevisionGraph,
  command: { direction: "up" | "down"; target: string },
): Promise<void> {
  if (resume.size === 0) return;
  const resumed = new Set(plan.map((revision) => `${revision.file.revision}:${revision.direction}`));
  if ([...resume.keys()].every((key) => resumed.has(key))) return;
  const stuck = (await readVersionState(conn, family)).unfinished.filter((run) => !resumed.has(`${run.revision}:${run.direction}`));
  const first = stuck[0];
  if (!first) return;
  const what = `retort ${command.direction === "up" ? "upgrade" : "downgrade"} ${shortTarget(command.target)}`;
  const runs = stuck.map((run) => describeRun(run, graph)).join("; ");
  const id = first.revision;
  const revision = graph.get(id);
  const below = !revision || revision.parents.length === 0 ? "base" : revision.parents.length === 1 ? revision.parents[0]! : `${id}-1`;
  const finish = first.direction === "up" ? `retort upgrade ${id}` : `retort downgrade ${below}`;
  const [undone, done] = first.direction === "up" ? [below, id] : [id, below];
  throw new RetortError("RETORT_UNFINISHED_REVISION", `Cannot run \`${what}\`: ${runs}. The database's schema matches no revision, so no other migration may run over it.`, {
    hint:
      `Either finish that run: fix what stopped it, then \`${finish}\` resumes at step ${first.stepsDone + 1}, and run \`${what}\` after. ` +
      `Or, if you repaired the database by hand, record where it is now: \`retort stamp ${undone}\` (its committed steps undone) or \`retort stamp ${done}\` (the rest done by hand); a stamp settles the unfinished run.`,
    details: { unfinished: stuck.map((run) => ({ revision: run.revision, direction: run.direction, stepsDone: run.stepsDone, totalSteps: run.totalSteps, outcome: run.outcome, startedAt: run.startedAt })) },
  });
}

function describeRun(run: UnfinishedRevision, graph: RevisionGraph): string {
  const file = graph.get(run.revision)?.path;
  const how = run.outcome === "failed" ? "failed part-way" : "was interrupted";
  const steps = `steps 1..${run.stepsDone}${run.totalSteps === undefined ? "" : ` of ${run.totalSteps}`} committed`;
  return `the ${run.direction === "up" ? "upgrade" : "downgrade"} of ${run.revision}${file ? ` (${file})` : ""} started ${run.startedAt} ${how}, with ${steps}`;
}

/**
 * `retort stamp` says where the database is: a run left part-way is settled by a history row
 * (outcome "stamped", no step done) that becomes its last, so nothing resumes it. Returns them.
 */
export async function settleUnfinished(conn: Connection, family: SqlFamily, target: string): Promise<UnfinishedRevision[]> {
  const { unfinished } = await readVersionState(conn, family);
  const at = new Date().toISOString();
  for (const run of unfinished) {
    await conn.query(
      `INSERT INTO ${HISTORY_TABLE} (revision, direction, started_at, finished_at, duration_ms, outcome, steps_done, reason) VALUES (` +
        [quoteLiteral(run.revision), quoteLiteral(run.direction), quoteLiteral(at), quoteLiteral(at), "0", "'stamped'", "0", quoteLiteral(`retort stamp ${shortTarget(target)}: ${run.stepsDone} committed step(s) settled by hand`)].join(", ") +
        ")",
    );
  }
  return unfinished;
}
