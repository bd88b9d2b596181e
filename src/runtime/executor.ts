/**
 * Runs compiled revisions on a live database, one transaction per migration by default (or one
 * around the whole run), keeping the version table and the history table in step.
 *
 * - A failing migration is rolled back: the database stays at the previous revision, and the
 *   error names the revision, the step and its SQL.
 * - Steps that cannot run in a transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE)
 *   end the current transaction, run on their own, and record progress in the history row,
 *   so a failure among them is reported precisely and a rerun resumes after the last done step.
 * - SQLite rebuilds: foreign keys are turned off BEFORE the transaction (SQLite ignores the
 *   pragma inside one), `PRAGMA foreign_key_check` runs before commit, and they are restored after.
 * - Round trips: on Postgres a revision of plain statements (the common case) goes as ONE text:
 *   BEGIN, its statements, the version change, the history row, COMMIT (Postgres runs the
 *   statements of one simple-protocol query in order and stops at the first error). When that
 *   fails, the statements run again one at a time in a transaction that is rolled back, to name
 *   the one that fails. Otherwise BEGIN rides along with the first statement and the end of the
 *   revision goes as one text. A revision that creates a table and an index costs one round trip,
 *   where psql running the offline script needs five.
 */
import type { Kysely } from "kysely";
import { loadKysely } from "../db/kysely-runtime.js";
import type { HeldConnection, Driver } from "../dialects/driver.js";
import { quoteIdent, quoteLiteral } from "../dialects/sql-text.js";
import { RetortError } from "../errors.js";
import type { SqlFamily } from "../schema/snapshot.js";
import type { PlannedRevision, PlannedStep } from "./plan.js";
import { HISTORY_TABLE, VERSION_TABLE, createVersionTablesSql, versionChangeSql } from "./version-table.js";

export interface ProgressEvent {
  index: number;
  total: number;
  revision: string;
  message: string;
  direction: "up" | "down";
}

export interface ExecuteOptions {
  transaction: "each" | "all";
  onProgress?: (event: ProgressEvent) => void;
  /** History rows left unfinished by an interrupted run: revision → steps already done. */
  resume?: Map<string, number>;
}

export class MigrationExecutor {
  private kysely: Kysely<any> | undefined;
  private inTransaction = false;
  /** Statements that return nothing, held back to go with the next one (BEGIN, the end of a revision). */
  private deferred: string[] = [];
  /** The current revision's statements are held back too, to go as one text with its end. */
  private holdSteps = false;
  /** The progress line of the revision about to run, reported once its first text is sent. */
  private pendingProgress: (() => void) | undefined;
  /** Triggers read before a SQLite rebuild drops their table, recreated after it (table → CREATE TRIGGER texts). */
  private readonly savedTriggers = new Map<string, string[]>();

  constructor(
    private readonly driver: Driver,
    private readonly conn: HeldConnection,
    private readonly family: SqlFamily,
  ) {}

  private async sql(text: string, params?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    // Several statements in one text only without parameters, and only worth it over a socket.
    if (this.deferred.length > 0 && this.family === "postgres" && params === undefined) {
      text = joinStatements([...this.deferred, text]);
      this.deferred = [];
    }
    await this.flush();
    return this.send(text, params);
  }

  private async send(text: string, params?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    const result = this.conn.query(text, params);
    // The text is on its way (drivers send before their first await): report while the server works.
    this.reportProgress();
    try {
      return await result;
    } catch (error) {
      throw this.driver.translateError(error);
    }
  }

  private reportProgress(): void {
    const report = this.pendingProgress;
    this.pendingProgress = undefined;
    report?.();
  }

  async ensureTables(): Promise<void> {
    for (const statement of createVersionTablesSql(this.family)) await this.sql(statement);
  }

  async currentHeads(): Promise<string[]> {
    const { rows } = await this.sql(`SELECT version_num FROM ${VERSION_TABLE}`);
    return rows.map((row) => String(row.version_num)).sort();
  }

  /**
   * Latest checksum recorded for each revision applied upward (to detect edited files). The
   * database picks the latest row per revision and sends them as one text value ("revision
   * checksum" lines): at 10,000 revisions one value costs a fraction of 10,000 rows.
   */
  async appliedChecksums(): Promise<Map<string, string>> {
    const newline = this.family === "postgres" ? "chr(10)" : "char(10)";
    const aggregate = this.family === "postgres" ? "string_agg" : "group_concat";
    const { rows } = await this.sql(
      `SELECT ${aggregate}(revision || ' ' || coalesce(checksum, ''), ${newline}) AS list FROM ${HISTORY_TABLE} ` +
        `WHERE id IN (SELECT max(id) FROM ${HISTORY_TABLE} WHERE direction = 'up' AND outcome = 'applied' GROUP BY revision)`,
    );
    const checksums = new Map<string, string>();
    const list = rows[0]?.list;
    if (typeof list !== "string" || list === "") return checksums;
    for (const line of list.split("\n")) {
      const space = line.lastIndexOf(" ");
      checksums.set(line.slice(0, space), line.slice(space + 1));
    }
    return checksums;
  }

  /** Revisions whose last run stopped part-way through steps outside a transaction (filtered by the database: usually none). */
  async unfinished(): Promise<Map<string, number>> {
    const { rows } = await this.sql(
      `SELECT revision, direction, steps_done FROM ${HISTORY_TABLE} WHERE id IN (SELECT max(id) FROM ${HISTORY_TABLE} GROUP BY revision, direction) AND outcome <> 'applied' AND steps_done > 0`,
    );
    return new Map(rows.map((row) => [`${row.revision}:${row.direction}`, Number(row.steps_done)]));
  }

  async setHeads(before: ReadonlySet<string>, after: ReadonlySet<string>): Promise<void> {
    for (const statement of versionChangeSql(before, after)) await this.sql(statement);
  }

  /**
   * A history row. Times come from this process's clock (one clock for start, end and duration;
   * ISO text sorts and reads the same in a Postgres timestamptz and a SQLite TEXT column), except
   * with `serverClock`: a Postgres revision in its own transaction, whose statements may go in
   * the same text as this row, so only the server sees when they end. Its row says when the
   * revision's transaction began (now()) and when the row was written (clock_timestamp()).
   */
  private historyInsert(revision: PlannedRevision, startedAt: Date, finish?: { outcome: "applied" | "failed"; stepsDone: number; error?: string; serverClock?: boolean }): string {
    const columns = ["revision", "direction", "checksum", "started_at", "outcome"];
    const values = [quoteLiteral(revision.file.revision), quoteLiteral(revision.direction), quoteLiteral(revision.file.checksum)];
    if (!finish) return `INSERT INTO ${HISTORY_TABLE} (${columns.join(", ")}) VALUES (${values.join(", ")}, ${quoteLiteral(startedAt.toISOString())}, 'running') RETURNING id`;
    const now = new Date();
    const [started, finished, duration] = finish.serverClock
      ? ["now()", "clock_timestamp()", "(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer"]
      : [quoteLiteral(startedAt.toISOString()), quoteLiteral(now.toISOString()), String(now.getTime() - startedAt.getTime())];
    columns.push("finished_at", "duration_ms", "steps_done", "error");
    values.push(started, quoteLiteral(finish.outcome), finished, duration, String(finish.stepsDone), finish.error === undefined ? "NULL" : quoteLiteral(finish.error.slice(0, 4000)));
    return `INSERT INTO ${HISTORY_TABLE} (${columns.join(", ")}) VALUES (${values.join(", ")})`;
  }

  /** A "running" row written before the work, for revisions whose progress must be recorded as it goes. */
  private async startHistory(revision: PlannedRevision, startedAt: Date): Promise<number> {
    const { rows } = await this.sql(this.historyInsert(revision, startedAt));
    return Number(rows[0]!.id);
  }

  private finishHistorySql(id: number, startedAt: Date, outcome: "applied" | "failed", stepsDone: number, error?: string): string {
    const now = new Date();
    return `UPDATE ${HISTORY_TABLE} SET finished_at = ${quoteLiteral(now.toISOString())}, duration_ms = ${now.getTime() - startedAt.getTime()}, outcome = ${quoteLiteral(outcome)}, steps_done = ${stepsDone}, error = ${error === undefined ? "NULL" : quoteLiteral(error.slice(0, 4000))} WHERE id = ${id}`;
  }

  private begin(): void {
    if (!this.inTransaction) {
      this.deferred.push("BEGIN");
      this.inTransaction = true;
    }
  }

  private async commit(): Promise<void> {
    if (this.inTransaction) {
      this.deferred.push("COMMIT");
      await this.flush();
      this.inTransaction = false;
    }
  }

  /** Send what is held back: as one text on Postgres, one statement at a time on SQLite. */
  private async flush(): Promise<void> {
    const held = this.deferred;
    this.deferred = [];
    if (held.length === 0) return;
    if (this.family === "postgres") await this.send(joinStatements(held));
    else for (const statement of held) await this.send(statement);
  }

  private async rollback(): Promise<void> {
    // Nothing was sent yet (BEGIN still held back): nothing to undo.
    const sent = !this.deferred.includes("BEGIN");
    this.deferred = [];
    if (!this.inTransaction) return;
    this.inTransaction = false;
    if (!sent) return;
    try {
      await this.conn.query("ROLLBACK");
    } catch {
      // the connection is gone or the transaction already ended: nothing more to undo
    }
  }

  private async runStep(step: PlannedStep): Promise<void> {
    if (step.run) {
      await this.flush();
      if (!this.kysely) {
        // Loaded only for data migrations.
        const { Kysely, dialectFor } = await loadKysely();
        this.kysely = new Kysely<any>({ dialect: dialectFor(this.driver, this.conn) });
      }
      await step.run(this.kysely);
      return;
    }
    if (this.holdSteps) {
      this.deferred.push(step.sql);
      return;
    }
    if (step.saveTriggers !== undefined) {
      // DROP TABLE takes a table's triggers with it; keep their definitions to recreate them.
      const { rows } = await this.sql(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ${quoteLiteral(step.saveTriggers)}`);
      this.savedTriggers.set(step.saveTriggers, rows.map((row) => String(row.sql)));
    }
    await this.sql(step.sql, step.params);
    if (step.restoreTriggers !== undefined) {
      for (const trigger of this.savedTriggers.get(step.restoreTriggers) ?? []) await this.sql(trigger);
      this.savedTriggers.delete(step.restoreTriggers);
    }
    if (step.checkForeignKeys !== undefined) {
      const { rows } = await this.sql(`PRAGMA foreign_key_check(${quoteIdent(step.checkForeignKeys)})`);
      if (rows.length > 0) {
        const sample = rows.slice(0, 5).map((row) => `${row.table} rowid ${row.rowid} → ${row.parent}`);
        throw new RetortError("RETORT_FOREIGN_KEY_VIOLATION", `this migration would leave ${rows.length} row(s) of "${step.checkForeignKeys}" with a dangling foreign key: ${sample.join("; ")}`, {
          hint: "Fix or delete those rows first (op.execute / op.run before this operation); nothing was changed.",
          details: { table: step.checkForeignKeys, violations: rows.length },
        });
      }
    }
  }

  /**
   * Run the revisions in order, moving the version rows with `nextHeads` after each.
   * Returns the heads after the run.
   */
  async run(plan: PlannedRevision[], startHeads: string[], nextHeads: (heads: Set<string>, revision: PlannedRevision) => Set<string>, options: ExecuteOptions): Promise<string[]> {
    let heads = new Set(startHeads);
    const whole = options.transaction === "all";
    const foreignKeysOff = this.family === "sqlite" && plan.some((revision) => revision.steps.some((step) => step.foreignKeysOff));
    if (whole) {
      const outside = plan.find((revision) => revision.steps.some((step) => step.outsideTransaction));
      if (outside) {
        throw new RetortError("RETORT_MIGRATION_FAILED", `revision ${outside.file.revision} has steps that cannot run inside a transaction, but migrations.transaction is "all"`, {
          hint: 'Run it with migrations.transaction "each" (the default).',
        });
      }
    }
    if (foreignKeysOff) await this.sql("PRAGMA foreign_keys = OFF");
    try {
      if (whole) this.begin();
      for (const [index, revision] of plan.entries()) {
        // A callback that throws stops the run after this revision, never in the middle of it.
        let progressError: { error: unknown } | undefined;
        const event: ProgressEvent = { index: index + 1, total: plan.length, revision: revision.file.revision, message: revision.file.message, direction: revision.direction };
        this.pendingProgress = () => {
          try {
            options.onProgress?.(event);
          } catch (error) {
            progressError = { error };
          }
        };
        const after = nextHeads(heads, revision);
        try {
          await this.runRevision(revision, heads, after, whole, options.resume?.get(`${revision.file.revision}:${revision.direction}`) ?? 0);
        } finally {
          this.reportProgress();
        }
        heads = after;
        if (progressError) throw progressError.error;
      }
      if (whole) await this.commit();
    } catch (error) {
      await this.rollback();
      // Pragmas are not transactional: a failure mid-rebuild could leave this one on.
      if (this.family === "sqlite") await this.conn.query("PRAGMA legacy_alter_table = OFF").catch(() => undefined);
      throw error;
    } finally {
      if (foreignKeysOff) await this.sql("PRAGMA foreign_keys = ON");
    }
    return [...heads].sort();
  }

  private async runRevision(revision: PlannedRevision, before: Set<string>, after: Set<string>, whole: boolean, resumeFrom: number): Promise<void> {
    const transactional = revision.file.transactional !== false;
    const startedAt = new Date();
    // The history row is written at the end, with the version change, in the revision's own
    // transaction (one commit per revision). When some work commits on its own, a "running" row
    // goes first instead, to record progress as it goes.
    const earlyRow = !whole && (!transactional || revision.steps.some((step) => step.outsideTransaction));
    const historyId = earlyRow ? await this.startHistory(revision, startedAt) : undefined;
    let done = 0;
    /** Steps that survive a failure: committed before an outside step, or run outside. */
    let durable = 0;
    let current: PlannedStep | undefined;
    this.holdSteps = this.family === "postgres" && transactional && !whole && historyId === undefined && revision.steps.every(isPlainStatement);
    try {
      if (transactional) this.begin();
      for (const [i, step] of revision.steps.entries()) {
        current = step;
        if (i < resumeFrom) {
          done = durable = i + 1;
          continue;
        }
        if (step.outsideTransaction && !whole) {
          await this.commit();
          durable = done;
          await this.runStep(step);
          done = durable = i + 1;
          await this.sql(`UPDATE ${HISTORY_TABLE} SET steps_done = ${done} WHERE id = ${historyId}`);
          continue;
        }
        if (transactional) this.begin();
        await this.runStep(step);
        done = i + 1;
      }
      current = undefined;
      if (transactional) this.begin();
      this.deferred.push(
        ...versionChangeSql(before, after),
        historyId === undefined
          ? this.historyInsert(revision, startedAt, { outcome: "applied", stepsDone: done, serverClock: this.family === "postgres" && transactional && !whole })
          : this.finishHistorySql(historyId, startedAt, "applied", done),
      );
      // Sent now even inside a run-wide transaction, so a failure is reported against this revision.
      if (transactional && !whole) await this.commit();
      else await this.flush();
    } catch (error) {
      if (!whole) await this.rollback();
      let cause = error;
      if (this.holdSteps && current === undefined) {
        const culprit = await this.findFailingStep(revision.steps);
        if (culprit) ({ step: current, error: cause } = culprit);
      }
      const failed = migrationFailed(revision, current, cause);
      if (!whole) {
        try {
          // A row written inside the rolled-back transaction is gone: record the failure anew.
          const stepsDone = transactional ? durable : done;
          await this.sql(
            historyId === undefined
              ? this.historyInsert(revision, startedAt, { outcome: "failed", stepsDone, error: failed.message })
              : this.finishHistorySql(historyId, startedAt, "failed", stepsDone, failed.message),
          );
        } catch {
          // the failure itself is what matters to the caller
        }
      }
      throw failed;
    } finally {
      this.holdSteps = false;
    }
  }

  /** Run the steps one at a time in a transaction that is rolled back: the first that fails is the culprit. */
  private async findFailingStep(steps: readonly PlannedStep[]): Promise<{ step: PlannedStep; error: unknown } | undefined> {
    this.holdSteps = false;
    try {
      await this.send("BEGIN");
    } catch {
      return undefined; // the connection is gone: the original error says so
    }
    try {
      for (const step of steps) {
        try {
          await this.send(step.sql!);
        } catch (error) {
          return { step, error };
        }
      }
      return undefined; // the statements pass on their own: the revision's end failed
    } finally {
      await this.conn.query("ROLLBACK").catch(() => undefined);
    }
  }
}

/** SQL without parameters that runs inside a transaction: it can join other statements in one text. */
function isPlainStatement(step: PlannedStep): boolean {
  return step.run === undefined && step.params === undefined && !step.outsideTransaction;
}

/** One text of several statements; the newline before each ";" ends a trailing "--" comment. */
function joinStatements(statements: readonly string[]): string {
  return statements.join("\n;\n");
}

function migrationFailed(revision: PlannedRevision, step: PlannedStep | undefined, error: unknown): RetortError {
  const reason = error instanceof Error ? error.message : String(error);
  const where = step ? `, at "${step.description}"` : "";
  const concurrentIndex = step?.outsideTransaction && /CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY/i.test(step.sql ?? "");
  const sqlText = step?.sql ? `\nSQL: ${step.sql}` : "";
  return new RetortError("RETORT_MIGRATION_FAILED", `${revision.direction === "up" ? "Upgrade" : "Downgrade"} of ${revision.file.revision} (${revision.file.path})${where} failed: ${reason}${sqlText}`, {
    hint: concurrentIndex
      ? "A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: drop it (DROP INDEX CONCURRENTLY <name>), fix the cause, and run the same command again to resume after the steps already done."
      : step?.outsideTransaction || revision.file.transactional === false
        ? "Steps outside a transaction that completed stay done; fix the cause and run the same command again to resume."
        : "The migration was rolled back; the database is still at the previous revision. Fix the cause and run the command again.",
    details: { revision: revision.file.revision, file: revision.file.path, step: step?.description, sql: step?.sql, causeCode: error instanceof RetortError ? error.code : undefined },
    cause: error,
  });
}
