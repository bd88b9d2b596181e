/**
 * What a migration file exports. The header fields are literals at the top of the
 * `defineMigration({...})` call so that listing and graph commands can read them statically,
 * without loading the module:
 *
 *   import { defineMigration } from "retort-db";
 *
 *   export default defineMigration({
 *     revision: "0c3f9a2b7d1e",
 *     parents: ["9b2e4d1a0f3c"],          // [] for a base, two or more for a merge
 *     message: "add user preferences",
 *     createdAt: "2026-11-21T14:30:00.000Z",
 *     branchLabels: ["billing"],          // optional
 *     dependsOn: ["5d8e7f6a1b2c"],        // optional
 *     transactional: false,               // optional; default true
 *     replaces: ["a1…", "b2…"],           // only on a squash (retort squash)
 *     async upgrade(op) { … },
 *     async downgrade(op) { … },
 *   });
 */
import type { MigrationOps } from "../operations/api.js";

/** The header of a revision, as read statically from its file. */
export interface RevisionHeader {
  revision: string;
  parents: string[];
  message: string;
  createdAt: string;
  branchLabels: string[];
  dependsOn: string[];
  /** false: run this migration outside a transaction. */
  transactional: boolean;
  /**
   * A squash: the revisions whose files it replaces (kept under `squashed/` in the migrations
   * folder for databases in the middle of the range). Absent on ordinary revisions.
   */
  replaces?: string[];
}

/**
 * upgrade/downgrade record operations on `op` (they run after every operation of the plan is
 * compiled); data work goes through `op.run(description, async (db) => …)`, which runs in order.
 */
export type MigrationFn<Op> = (op: Op) => Promise<void> | void;

export interface MigrationDefinition<Op = MigrationOps> extends Partial<RevisionHeader> {
  revision: string;
  parents: string[];
  /**
   * Postgres: `lock_timeout` for every step (e.g. "5s"): the runner sets it at the start of each
   * transaction of the revision, so a step that would wait longer for a table lock fails rather
   * than queueing the app's queries behind it. Steps that committed stay done; rerun to resume.
   */
  lockTimeout?: string;
  /**
   * This revision is the contract half of an expand/contract pair: `upgrade` refuses to run it
   * until `retort release <contractOf>` records the expand revision as deployed (or the config's
   * migrations.released says so).
   */
  contractOf?: string;
  upgrade: MigrationFn<Op>;
  downgrade: MigrationFn<Op>;
}

export interface DefinedMigration<Op = MigrationOps> extends MigrationDefinition<Op> {
  readonly kind: "migration";
}

export function defineMigration<Op = MigrationOps>(definition: MigrationDefinition<Op>): DefinedMigration<Op> {
  return Object.freeze({ ...definition, kind: "migration" as const });
}

export function isDefinedMigration(value: unknown): value is DefinedMigration {
  return typeof value === "object" && value !== null && (value as DefinedMigration).kind === "migration";
}
