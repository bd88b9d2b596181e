/**
 * Runs compiled revisions on a live database, one transaction per migration by default (or one
 * around the whole run), keeping the version table and the history table in step.
 *
 * - A failing migration is rolled back: the database stays at the previous revision, and the
 *   error names the revision, the step and its SQL.
 * - Steps that cannot run in a transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE)
 *   end the current transaction, run on their own, and record progress in the history row,
 *   so a failure among them is reported precisely and a rerun resumes after the last done step.
 * - SQLite rebuilds: foreign keys are turned off BEFORE the transaction of the revision that
 *   rebuilds (SQLite ignores the pragma inside one) and on again before the next revision; a
 *   whole-database `PRAGMA foreign_key_check` runs before that revision commits. Each rebuild is
 *   planned again at run time from the table as it is (introspected), so objects the migrations
 *   did not create are carried over.
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
import type { ConcurrentIndex } from "../dialects/postgres/operations.js";
import { quoteIdent, quoteLiteral } from "../dialects/sql-text.js";
import { RetortError } from "../errors.js";
import type { RebuildSource, Step } from "../operations/types.js";
import type { Schema, SqlFamily } from "../schema/snapshot.js";
import type { PlannedRevision, PlannedStep } from "./plan.js";
import type { DigestMemo } from "./digest-memo.js";
import { STOPPED_PART_WAY, latestRowsWhere, readAppliedChecksumDigest, readAppliedChecksumList, readAppliedChecksums } from "./status.js";
import { HISTORY_TABLE, VERSION_TABLE, ADDED_HISTORY_COLUMNS, addHistoryColumnsSql, createVersionTablesSql, versionChangeSql } from "./version-table.js";

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
  /** Told what a revision could not do, once it is done (a downgrade does not restore dropped data). */
  onWarning?: (message: string) => void;
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
    const statements = createVersionTablesSql(this.family);
    if (this.family === "postgres") {
      // Asked first: the DDL below takes 20 ms even when it has nothing to do (its column checks
      // read information_schema), and the tables are nearly always there.
      const { rows } = await this.sql(
        `SELECT to_regclass('${VERSION_TABLE}') IS NOT NULL AS version, (SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = to_regclass('${HISTORY_TABLE}') AND attnum > 0 AND NOT attisdropped) AS columns`,
      );
      const columns = new Set((rows[0]?.columns as string[] | null) ?? []);
      const complete = rows[0]?.version === true && columns.has("id") && ADDED_HISTORY_COLUMNS.every(([name]) => columns.has(name));
      if (!complete) await this.sql(joinStatements([...statements, addHistoryColumnsSql()]));
      return;
    }
    for (const statement of statements) await this.sql(statement);
    // History tables made before the later columns existed.
    const { rows } = await this.sql(`SELECT name FROM pragma_table_info('${HISTORY_TABLE}')`);
    const present = new Set(rows.map((row) => String(row.name)));
    for (const [name, type] of ADDED_HISTORY_COLUMNS) if (!present.has(name)) await this.sql(`ALTER TABLE ${HISTORY_TABLE} ADD COLUMN ${name} ${type}`);
  }

  async currentHeads(): Promise<string[]> {
    const { rows } = await this.sql(`SELECT version_num FROM ${VERSION_TABLE}`);
    return rows.map((row) => String(row.version_num)).sort();
  }

  /** Latest checksum recorded for each revision applied upward (to detect edited files). */
  appliedChecksums(): Promise<Map<string, string>> {
    return readAppliedChecksums(this.conn, this.family);
  }

  /** The same, with the list they were read from (see readAppliedChecksumList). */
  appliedChecksumList(): Promise<{ checksums: Map<string, string>; list: string }> {
    return readAppliedChecksumList(this.conn, this.family);
  }

  /** The digest of the same (see readAppliedChecksumDigest). */
  appliedChecksumDigest(memo?: DigestMemo): Promise<string> {
    return readAppliedChecksumDigest(this.conn, this.family, memo);
  }

  /** Revisions whose last run stopped part-way through steps outside a transaction (filtered by the database: usually none). */
  async unfinished(): Promise<Map<string, number>> {
    const rows = await latestRowsWhere((sql) => this.sql(sql), "steps_done", STOPPED_PART_WAY);
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
  private historyInsert(revision: PlannedRevision, startedAt: Date, resumeFrom: number, finish?: { outcome: "applied" | "failed"; stepsDone: number; error?: string; serverClock?: boolean }): string {
    const columns = ["revision", "direction", "checksum", "started_at", "outcome"];
    const values = [quoteLiteral(revision.file.revision), quoteLiteral(revision.direction), quoteLiteral(revision.file.checksum)];
    if (!finish) {
      // A resumed run starts at the steps already done, so a second interruption loses no progress.
      columns.push("steps_done", "steps_total");
      return `INSERT INTO ${HISTORY_TABLE} (${columns.join(", ")}) VALUES (${values.join(", ")}, ${quoteLiteral(startedAt.toISOString())}, 'running', ${resumeFrom}, ${revision.steps.length}) RETURNING id`;
    }
    const now = new Date();
    const [started, finished, duration] = finish.serverClock
      ? ["now()", "clock_timestamp()", "(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer"]
      : [quoteLiteral(startedAt.toISOString()), quoteLiteral(now.toISOString()), String(now.getTime() - startedAt.getTime())];
    columns.push("finished_at", "duration_ms", "steps_done", "steps_total", "error");
    values.push(started, quoteLiteral(finish.outcome), finished, duration, String(finish.stepsDone), String(revision.steps.length), finish.error === undefined ? "NULL" : quoteLiteral(finish.error.slice(0, 4000)));
    return `INSERT INTO ${HISTORY_TABLE} (${columns.join(", ")}) VALUES (${values.join(", ")})`;
  }

  /** A "running" row written before the work, for revisions whose progress must be recorded as it goes. */
  private async startHistory(revision: PlannedRevision, startedAt: Date, resumeFrom: number): Promise<number> {
    const { rows } = await this.sql(this.historyInsert(revision, startedAt, resumeFrom));
    return Number(rows[0]!.id);
  }

  private finishHistorySql(id: number, startedAt: Date, outcome: "applied" | "failed", stepsDone: number, error?: string): string {
    const now = new Date();
    return `UPDATE ${HISTORY_TABLE} SET finished_at = ${quoteLiteral(now.toISOString())}, duration_ms = ${now.getTime() - startedAt.getTime()}, outcome = ${quoteLiteral(outcome)}, steps_done = ${stepsDone}, error = ${error === undefined ? "NULL" : quoteLiteral(error.slice(0, 4000))} WHERE id = ${id}`;
  }

  /** Start a transaction unless one is open; `settings` (SET LOCAL …) go right after its BEGIN. */
  private begin(settings: readonly string[] = []): void {
    if (!this.inTransaction) {
      this.deferred.push("BEGIN", ...settings);
      this.inTransaction = true;
    }
  }

  /**
   * The revision's lock_timeout, as SET LOCAL for each transaction it runs in: SET LOCAL ends with
   * its transaction, so a revision without one transaction (each step commits on its own) gets it
   * at every BEGIN, and nothing outlives the revision. Steps outside any transaction (CREATE INDEX
   * CONCURRENTLY) run without it: their SHARE UPDATE EXCLUSIVE lock lets reads and writes through,
   * so waiting for it holds up nobody's queries.
   */
  private transactionSettings(revision: PlannedRevision): string[] {
    if (this.family !== "postgres" || revision.lockTimeout === undefined) return [];
    return [`SET LOCAL lock_timeout = ${quoteLiteral(revision.lockTimeout)}`];
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
    if (whole) {
      const outside = plan.find((revision) => revision.steps.some((step) => step.outsideTransaction));
      if (outside) {
        throw new RetortError("RETORT_MIGRATION_FAILED", `revision ${outside.file.revision} has steps that cannot run inside a transaction, but migrations.transaction is "all"`, {
          hint: 'Run it with migrations.transaction "each" (the default).',
        });
      }
    }
    // PGlite reads an extension's files only when it starts: those the plan creates are loaded
    // first, before any transaction of the run is open.
    const extensions = [...new Set(plan.flatMap((revision) => revision.steps.flatMap((step) => (step.extension === undefined ? [] : [step.extension]))))];
    if (extensions.length > 0 && this.driver.loadExtensions && !this.inTransaction) {
      await this.flush();
      await this.driver.loadExtensions(extensions);
    }
    // Foreign keys are off only for a revision that rebuilds a table (or, with one transaction
    // around the run, for the whole run): every other revision's deletes cascade as declared.
    // SQLite ignores the pragma inside a transaction, so it is switched between revisions.
    const rebuilds = (revision: PlannedRevision) => this.family === "sqlite" && revision.steps.some((step) => step.foreignKeysOff);
    const wholeRunOff = whole && plan.some(rebuilds);
    let foreignKeysOff = false;
    /** Said once what they are about is committed. */
    const warnings: string[] = [];
    const switchForeignKeys = async (off: boolean) => {
      if (off === foreignKeysOff) return;
      await this.sql(`PRAGMA foreign_keys = ${off ? "OFF" : "ON"}`);
      foreignKeysOff = off;
    };
    try {
      if (wholeRunOff) await switchForeignKeys(true);
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
        if (!whole) await switchForeignKeys(rebuilds(revision));
        try {
          await this.runRevision(revision, heads, after, {
            whole,
            resumeFrom: options.resume?.get(`${revision.file.revision}:${revision.direction}`) ?? 0,
            // With one transaction around the run, a failure rolls back to where the run started.
            nowAt: whole ? startHeads : [...heads].sort(),
            checkForeignKeys: foreignKeysOff && !whole,
          });
        } finally {
          this.reportProgress();
        }
        heads = after;
        warnings.push(...(revision.warnings ?? []));
        if (!whole) warnings.splice(0).forEach((warning) => options.onWarning?.(warning));
        if (progressError) throw progressError.error;
      }
      if (whole) {
        if (wholeRunOff) {
          const orphans = await this.foreignKeyViolations();
          if (orphans) throw foreignKeysBroken(orphans, "this run", startHeads);
        }
        await this.commit();
        warnings.forEach((warning) => options.onWarning?.(warning));
      }
    } catch (error) {
      await this.rollback();
      // Pragmas are not transactional: a failure mid-rebuild could leave this one on.
      if (this.family === "sqlite") await this.conn.query("PRAGMA legacy_alter_table = OFF").catch(() => undefined);
      throw error;
    } finally {
      if (foreignKeysOff) await this.conn.query("PRAGMA foreign_keys = ON").catch(() => undefined);
    }
    return [...heads].sort();
  }

  /** Every row whose foreign key points nowhere, in the whole database (SQLite), or undefined. */
  private async foreignKeyViolations(): Promise<Array<Record<string, unknown>> | undefined> {
    const { rows } = await this.sql("PRAGMA foreign_key_check");
    return rows.length > 0 ? rows : undefined;
  }

  private async runRevision(
    revision: PlannedRevision,
    before: Set<string>,
    after: Set<string>,
    run: { whole: boolean; resumeFrom: number; nowAt: string[]; checkForeignKeys: boolean },
  ): Promise<void> {
    const { whole, resumeFrom } = run;
    const transactional = revision.file.transactional !== false;
    const settings = this.transactionSettings(revision);
    // One transaction around the whole run: the setting holds for this revision, then goes back.
    if (whole && settings.length > 0) this.deferred.push(...settings);
    const startedAt = new Date();
    // The history row is written at the end, with the version change, in the revision's own
    // transaction (one commit per revision). When some work commits on its own, a "running" row
    // goes first instead, to record progress as it goes.
    const earlyRow = !whole && (!transactional || revision.steps.some((step) => step.outsideTransaction));
    const historyId = earlyRow ? await this.startHistory(revision, startedAt, resumeFrom) : undefined;
    const recordProgress = (stepsDone: number) => `UPDATE ${HISTORY_TABLE} SET steps_done = ${stepsDone} WHERE id = ${historyId}`;
    let done = 0;
    /** Steps that survive a failure or a kill: committed (with their progress record), or run outside. */
    let durable = 0;
    let current: PlannedStep | undefined;
    this.holdSteps = this.family === "postgres" && transactional && !whole && historyId === undefined && revision.steps.every(isPlainStatement);
    try {
      if (transactional) this.begin(settings);
      /** Steps planned from the fold that a rebuild planned from the live table replaced. */
      let replacedUntil = 0;
      for (const [i, step] of revision.steps.entries()) {
        current = step;
        if (i < resumeFrom) {
          done = durable = i + 1;
          continue;
        }
        if (i < replacedUntil) {
          done = i + 1;
          continue;
        }
        if (step.rebuild !== undefined && this.family === "sqlite") {
          // A rebuild is one transaction even in a revision without one: DROP TABLE committed
          // without the copy's rename would lose the table.
          const own = !transactional && !whole;
          this.begin(settings);
          for (const live of await this.liveRebuild(step.rebuild)) {
            current = live;
            await this.runStep(live);
          }
          replacedUntil = i + step.rebuild.stepCount;
          done = i + 1;
          if (own) {
            if (run.checkForeignKeys) {
              const orphans = await this.foreignKeyViolations();
              if (orphans) throw foreignKeysBroken(orphans, `revision ${revision.file.revision}`);
            }
            this.deferred.push(recordProgress(replacedUntil));
            await this.commit();
            durable = done = replacedUntil;
          }
          continue;
        }
        if (step.outsideTransaction && !whole) {
          if (this.inTransaction) {
            // The progress record commits in the same transaction as the steps it counts, before
            // the outside step starts: a kill during that step leaves a record a rerun resumes from.
            this.deferred.push(recordProgress(done));
            await this.commit();
          }
          durable = done;
          await this.runOutsideStep(step);
          done = durable = i + 1;
          await this.sql(recordProgress(done));
          continue;
        }
        // In a revision without a transaction each step commits with the record that counts it, so a
        // kill never leaves a step done but uncounted; raw SQL may be a statement no transaction can
        // hold (VACUUM…), so it runs on its own, then is counted.
        const ownTransaction = !transactional && !whole && !step.raw;
        if (transactional || ownTransaction) this.begin(settings);
        if (!transactional && !whole && step.raw && settings.length > 0) await this.runWithLockTimeout(step, revision.lockTimeout!);
        else await this.runStep(step);
        done = i + 1;
        if (ownTransaction) {
          this.deferred.push(recordProgress(done));
          await this.commit();
          durable = done;
        } else if (!transactional && !whole) {
          durable = done;
          await this.sql(recordProgress(done));
        }
      }
      current = undefined;
      if (run.checkForeignKeys) {
        const orphans = await this.foreignKeyViolations();
        if (orphans) throw foreignKeysBroken(orphans, `revision ${revision.file.revision}`);
      }
      // The version change and the history row commit together, even for a revision without a transaction.
      this.begin(settings);
      this.deferred.push(
        ...versionChangeSql(before, after),
        historyId === undefined
          ? this.historyInsert(revision, startedAt, resumeFrom, { outcome: "applied", stepsDone: done, serverClock: this.family === "postgres" && transactional && !whole })
          : this.finishHistorySql(historyId, startedAt, "applied", done),
      );
      if (whole && settings.length > 0) this.deferred.push("SET LOCAL lock_timeout TO DEFAULT");
      // Sent now even inside a run-wide transaction, so a failure is reported against this revision.
      if (!whole) await this.commit();
      else await this.flush();
    } catch (error) {
      if (!whole) await this.rollback();
      let cause = error;
      if (this.holdSteps && current === undefined) {
        const culprit = await this.findFailingStep(revision.steps, settings);
        if (culprit) ({ step: current, error: cause } = culprit);
      }
      const committed = whole ? 0 : transactional ? durable : done;
      const failed = migrationFailed(revision, current, cause, { nowAt: run.nowAt, committed, whole });
      if (!whole) {
        try {
          // A row written inside the rolled-back transaction is gone: record the failure anew.
          await this.sql(
            historyId === undefined
              ? this.historyInsert(revision, startedAt, resumeFrom, { outcome: "failed", stepsDone: committed, error: failed.message })
              : this.finishHistorySql(historyId, startedAt, "failed", committed, failed.message),
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

  /**
   * Raw SQL of a revision without a transaction runs on its own (it may be a statement no
   * transaction can hold, or a DO block that commits in batches): the revision's lock_timeout is
   * set for the session around it, and reset after.
   */
  private async runWithLockTimeout(step: PlannedStep, lockTimeout: string): Promise<void> {
    await this.sql(`SET lock_timeout = ${quoteLiteral(lockTimeout)}`);
    try {
      await this.runStep(step);
    } finally {
      await this.conn.query("RESET lock_timeout").catch(() => undefined);
    }
  }

  /** A SQLite rebuild planned again from the table as it is now (it sees this revision's earlier steps). */
  private async liveRebuild(source: RebuildSource): Promise<Step[]> {
    await this.flush();
    // Loaded here, not at the top: a no-op upgrade or `current` never rebuilds, and these modules
    // (with the DDL they import) are a good part of a small command's start-up.
    const [{ introspectSqlite, readTableExtras }, { liveRebuildSteps }] = await Promise.all([import("../dialects/sqlite/introspect.js"), import("../dialects/sqlite/rebuild.js")]);
    let live: Schema;
    let found: Awaited<ReturnType<typeof readTableExtras>>;
    try {
      live = await introspectSqlite(this.conn);
      found = await readTableExtras(this.conn, source.table);
    } catch (error) {
      throw new RetortError("RETORT_INVALID_OPERATION", `${source.description}: cannot rebuild "${source.table}": the database could not be read as it is: ${(error as Error).message}`, {
        hint: error instanceof RetortError && error.hint ? error.hint : "Make the table readable by Retort (or rebuild it yourself with op.execute).",
        cause: error,
      });
    }
    // No table: liveRebuildSteps refuses it by name.
    return liveRebuildSteps(live, source, found ?? { extras: { strict: false, withoutRowid: false, columns: {} }, uncarried: [] });
  }

  /**
   * A step outside any transaction, safe to run again after a kill: ALTER TYPE … ADD VALUE has
   * IF NOT EXISTS; CREATE INDEX CONCURRENTLY accepts a VALID index of the same definition as done,
   * and drops an INVALID one (left by a build that died) before building again.
   */
  private async runOutsideStep(step: PlannedStep): Promise<void> {
    const { concurrentIndexParts } = await import("../dialects/postgres/operations.js");
    const index = this.family === "postgres" && step.sql !== undefined ? concurrentIndexParts(step.sql) : undefined;
    if (index) {
      const { rows } = await this.sql(`SELECT indisvalid AS valid, pg_get_indexdef(indexrelid) AS definition FROM pg_index WHERE indexrelid = to_regclass(${quoteLiteral(index.name)})`);
      const existing = rows[0];
      if (existing && !existing.valid) {
        await this.sql(`DROP INDEX CONCURRENTLY ${index.name}`);
      } else if (existing) {
        const wanted = await this.indexDefinitionOf(index);
        if (indexBody(String(existing.definition)) === wanted) return;
        throw new RetortError("RETORT_INVALID_OPERATION", `index ${index.name} already exists with another definition: ${String(existing.definition)}`, {
          hint: `Drop or rename the existing index ${index.name} (it is not the one this migration builds).`,
          details: { index: index.name, existing: existing.definition },
        });
      }
    }
    await this.runStep(step);
  }

  /** How Postgres itself writes an index definition: built on an empty copy of the table, rolled back. */
  private async indexDefinitionOf(index: ConcurrentIndex): Promise<string> {
    const { PROBE_INDEX, PROBE_TABLE } = await import("../dialects/postgres/operations.js");
    await this.sql("BEGIN");
    try {
      await this.send(`CREATE TEMP TABLE ${PROBE_TABLE} (LIKE ${index.table})`);
      await this.send(index.probeSql);
      const { rows } = await this.send(`SELECT pg_get_indexdef(${quoteLiteral(PROBE_INDEX)}::regclass) AS definition`);
      return indexBody(String(rows[0]!.definition));
    } finally {
      await this.conn.query("ROLLBACK").catch(() => undefined);
    }
  }

  /** Run the steps one at a time in a transaction that is rolled back: the first that fails is the culprit. */
  private async findFailingStep(steps: readonly PlannedStep[], settings: readonly string[]): Promise<{ step: PlannedStep; error: unknown } | undefined> {
    this.holdSteps = false;
    try {
      await this.send("BEGIN");
      for (const setting of settings) await this.send(setting);
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

/** An index definition from pg_get_indexdef without its name and table: "unique USING btree (name) WHERE …". */
function indexBody(definition: string): string {
  const using = definition.indexOf(" USING ");
  return `${/^CREATE UNIQUE /.test(definition) ? "unique" : "plain"}${using < 0 ? definition : definition.slice(using)}`;
}

function describeHeads(heads: readonly string[]): string {
  return heads.length === 0 ? "base (no revision applied)" : heads.join(", ");
}

/** Rows with a dangling foreign key after a run with foreign keys off: the run must not commit. */
function foreignKeysBroken(rows: Array<Record<string, unknown>>, where: string, nowAt?: readonly string[]): RetortError {
  const byTable = new Map<string, { parent: string; rowids: unknown[] }>();
  for (const row of rows) {
    const key = `${row.table} → ${row.parent}`;
    const entry = byTable.get(key) ?? { parent: String(row.parent), rowids: [] };
    entry.rowids.push(row.rowid);
    byTable.set(key, entry);
  }
  const named = [...byTable].map(([key, { rowids }]) => `${key}: ${rowids.length} row(s) (rowid ${rowids.slice(0, 5).join(", ")}${rowids.length > 5 ? ", …" : ""})`);
  const state = nowAt === undefined ? "" : ` The whole run was rolled back; the database is still at ${describeHeads(nowAt)}.`;
  return new RetortError("RETORT_FOREIGN_KEY_VIOLATION", `${where} ran with foreign keys off (a SQLite table rebuild) and would leave ${rows.length} row(s) with a dangling foreign key: ${named.join("; ")}.${state}`, {
    hint: "Deletes do not cascade while foreign keys are off for a rebuild: put data changes (DELETE/UPDATE of referenced rows) in their own revision, before or after the one that rebuilds, or fix those rows first.",
    details: { violations: rows.length, tables: [...new Set(rows.map((row) => String(row.table)))], ...(nowAt === undefined ? {} : { currentHeads: [...nowAt] }) },
  });
}

function migrationFailed(revision: PlannedRevision, step: PlannedStep | undefined, error: unknown, state: { nowAt: string[]; committed: number; whole: boolean }): RetortError {
  const id = revision.file.revision;
  const total = revision.steps.length;
  const reason = error instanceof Error ? error.message : String(error);
  const where = step ? `, at "${step.description}"` : "";
  const concurrentIndex = step?.outsideTransaction && /CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY/i.test(step.sql ?? "");
  const sqlText = step?.sql ? `\nSQL: ${step.sql}` : "";
  const now = describeHeads(state.nowAt);
  const partial = state.committed > 0;
  const position = state.whole
    ? `The whole run was rolled back; the database is still at ${now}.`
    : partial
      ? `The database is now at ${now}, with steps 1..${state.committed} of ${total} of revision ${id} committed; the rest of ${id} was not.`
      : revision.file.transactional === false
        ? `The database is now at ${now}; no step of revision ${id} was committed.`
        : `Revision ${id} was rolled back; the database is now at ${now}.`;
  let hint: string;
  if (partial) {
    hint = `Steps 1..${state.committed} of revision ${id} are committed; fix the cause and rerun the same command to resume at step ${state.committed + 1}.`;
  } else if (state.whole || revision.file.transactional !== false) {
    hint = `Nothing of revision ${id} was committed (rolled back); fix the cause and run the command again.`;
  } else {
    hint = "Fix the cause and run the command again.";
  }
  // What to do about the cause first, when Retort knows it.
  if (error instanceof RetortError && error.hint) hint = `${error.hint} ${hint}`;
  else if ((error as { code?: unknown } | undefined)?.code === "55P03") {
    // lock_timeout fired: another session holds a lock on the table (usually a long transaction).
    hint = `The step gave up waiting for a table lock after the revision's lockTimeout (${revision.lockTimeout ?? "lock_timeout"}): another session holds a conflicting lock, usually a long-running transaction (see pg_stat_activity). Let it finish or end it, then rerun; retrying at a quieter time is safe. ${hint}`;
  } else if (concurrentIndex) hint += " An INVALID index left by the failed build is dropped and built again on the rerun.";
  return new RetortError("RETORT_MIGRATION_FAILED", `${revision.direction === "up" ? "Upgrade" : "Downgrade"} of ${id} (${revision.file.path})${where} failed: ${reason}${sqlText}\n${position}`, {
    hint,
    details: {
      revision: id,
      file: revision.file.path,
      step: step?.description,
      sql: step?.sql,
      causeCode: error instanceof RetortError ? error.code : undefined,
      currentHeads: [...state.nowAt],
      stepsCommitted: state.committed,
      totalSteps: total,
    },
    cause: error,
  });
}
