/**
 * The offline script (`retort upgrade base:head --sql`) with Retort's history-table bookkeeping
 * added the way an online run does it (runtime/executor.ts): per revision, one INSERT of an
 * "applied" row into retort_migrations inside the revision's transaction, just before COMMIT.
 * Run through psql, it separates what Retort's extra statement costs on the server from what the
 * Node process costs.
 */
const HISTORY_ROW = (revision: string, steps: number) =>
  `INSERT INTO retort_migrations (revision, direction, checksum, started_at, outcome, finished_at, duration_ms, steps_done, error) VALUES ('${revision}', 'up', '${"0".repeat(64)}', '2026-01-01T00:00:00.000Z', 'applied', '2026-01-01T00:00:00.001Z', 1, ${steps}, NULL);`;

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
      inTransaction = true;
      steps = 0;
    } else if (line === "COMMIT;" && inTransaction) {
      out.push(HISTORY_ROW(revision!, steps));
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
