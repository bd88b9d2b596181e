/**
 * Offline mode (`--sql`): the full script a run would execute, version-table statements
 * included, for review by a DBA, without connecting. Uses the same compiled steps and the same
 * version-table SQL as an online run, so what is reviewed is what would run.
 */
import { RetortError } from "../errors.js";
import { renderOfflineSql } from "../operations/compile.js";
import { familyOf, type Dialect } from "../schema/snapshot.js";
import type { PlannedRevision } from "./plan.js";
import { createVersionTablesSql, versionChangeSql } from "./version-table.js";

export function renderPlanSql(plan: PlannedRevision[], dialect: Dialect, startHeads: string[], nextHeads: (heads: Set<string>, revision: PlannedRevision) => Set<string>, transaction: "each" | "all"): string {
  const family = familyOf(dialect);
  const out: string[] = [`-- Retort offline migration script (${dialect})`, `-- Generated ${new Date().toISOString()}`, ""];
  for (const statement of createVersionTablesSql(family)) out.push(`${statement};`, "");
  let heads = new Set(startHeads);
  if (transaction === "all") out.push("BEGIN;", "");
  for (const revision of plan) {
    const after = nextHeads(heads, revision);
    const arrow = revision.direction === "up" ? `${revision.file.parents.join(", ") || "<base>"} -> ${revision.file.revision}` : `${revision.file.revision} -> ${revision.file.parents.join(", ") || "<base>"}`;
    out.push(`-- Running ${revision.direction === "up" ? "upgrade" : "downgrade"} ${arrow}, ${revision.file.message}`);
    const transactional = revision.file.transactional !== false && transaction === "each";
    // SQLite ignores this pragma inside a transaction, so it goes before BEGIN.
    const foreignKeysOff = family === "sqlite" && revision.steps.some((step) => step.foreignKeysOff);
    if (foreignKeysOff) out.push("PRAGMA foreign_keys = OFF;");
    // The revision's lock_timeout: SET LOCAL in each transaction, or for the session around a revision without one.
    const lockTimeout = family === "postgres" && revision.lockTimeout !== undefined ? `lock_timeout = '${revision.lockTimeout}'` : undefined;
    const begin = () => out.push("BEGIN;", ...(lockTimeout && transactional ? [`SET LOCAL ${lockTimeout};`] : []));
    if (lockTimeout && !transactional) out.push(`SET ${lockTimeout};`);
    if (transactional) begin();
    for (const step of revision.steps) {
      if (step.run) {
        throw new RetortError("RETORT_UNSUPPORTED", `${revision.file.path}: "${step.description}" is a data migration (op.run) and cannot be rendered as SQL`, {
          hint: "Run this revision online, or express the change with op.execute(sql).",
        });
      }
      if (step.outsideTransaction && transactional) out.push("COMMIT;", "-- the next statement cannot run inside a transaction");
      if (step.saveTriggers !== undefined) out.push(`-- NOTE: the rebuild of "${step.saveTriggers}" drops its triggers; an online run recreates them, a reviewed script must add them back`);
      out.push(renderOfflineSql([step], dialect).trimEnd());
      if (step.checkForeignKeys !== undefined) out.push(`PRAGMA foreign_key_check("${step.checkForeignKeys}"); -- must return no rows, else ROLLBACK`);
      if (step.outsideTransaction && transactional) begin();
    }
    for (const statement of versionChangeSql(heads, after)) out.push(`${statement};`);
    if (transactional) out.push("COMMIT;");
    if (lockTimeout && !transactional) out.push("RESET lock_timeout;");
    if (foreignKeysOff) out.push("PRAGMA foreign_keys = ON;");
    out.push("");
    heads = after;
  }
  if (transaction === "all") out.push("COMMIT;", "");
  return out.join("\n");
}
