/**
 * The offline script (`retort upgrade base:head --sql`) with Retort's history-table bookkeeping
 * added the way an online run does it (runtime/executor.ts): per revision, an INSERT of a
 * "running" row into retort_migrations in autocommit, BEFORE the revision's BEGIN, and an UPDATE
 * of that row to "applied" inside the transaction. Run through psql, it separates what Retort's
 * extra statements cost on the server from what the Node process costs.
 */
const HISTORY_INSERT = (revision: string) =>
  `INSERT INTO retort_migrations (revision, direction, checksum, started_at, outcome) VALUES ('${revision}', 'up', '${"0".repeat(64)}', now(), 'running') RETURNING id \\gset`;
const HISTORY_FINISH = (steps: number) =>
  `UPDATE retort_migrations SET finished_at = now(), duration_ms = CAST(EXTRACT(EPOCH FROM (now() - started_at)) * 1000 AS INTEGER), outcome = 'applied', steps_done = ${steps}, error = NULL WHERE id = :id;`;

export function withHistoryRows(offlineSql: string, expectedRevisions: number): string {
  const out: string[] = [];
  let revision: string | undefined;
  let inTransaction = false;
  let steps = 0;
  let count = 0;
  for (const line of offlineSql.split("\n")) {
    const running = /^-- Running upgrade .* -> ([^,\s]+),/.exec(line);
    if (running) revision = running[1];
    if (line === "BEGIN;" && revision !== undefined) {
      out.push(HISTORY_INSERT(revision));
      inTransaction = true;
      steps = 0;
    } else if (line === "COMMIT;" && inTransaction) {
      out.push(HISTORY_FINISH(steps));
      inTransaction = false;
      revision = undefined;
      count++;
    } else if (inTransaction && line.startsWith("-- ")) {
      steps++; // the offline script writes one comment line per step
    }
    out.push(line);
  }
  if (count !== expectedRevisions) throw new Error(`withHistoryRows: rewrote ${count} revisions, expected ${expectedRevisions}; has the offline script's layout changed?`);
  return out.join("\n");
}
