/**
 * Operations → executable steps for one dialect. Each operation is compiled against the schema
 * before it (the fold), which is also checked first, so an operation that does not fit the schema
 * fails here with the fold's message instead of halfway through a migration.
 *
 * The dialect compilers live with their dialects (dialects/postgres/operations.ts,
 * dialects/sqlite/operations.ts, dialects/sqlite/rebuild.ts); this file dispatches, folds, and
 * renders steps as an offline SQL script.
 */
import { compilePostgresOperation } from "../dialects/postgres/operations.js";
import { compileSqliteOperation } from "../dialects/sqlite/operations.js";
import { quoteLiteral } from "../dialects/sql-text.js";
import { RetortError } from "../errors.js";
import { familyOf, type Dialect, type Schema, type SqlFamily } from "../schema/snapshot.js";
import { applyOperation } from "./apply.js";
import { Op, sqlForDialect, type Step } from "./types.js";

export type { Step } from "./types.js";

/** The statements that perform `op` on `dialect`, given the schema before it. */
export function compileOperation(op: Op, dialect: Dialect, before: Schema): Step[] {
  return compileAndApply(op, dialect, before).steps;
}

/** The statements for `op` and the schema after it (one fold step: a fold calls this, not both). */
export function compileAndApply(op: Op, dialect: Dialect, before: Schema): { steps: Step[]; after: Schema } {
  if (op.kind === "run") {
    throw new RetortError("RETORT_UNSUPPORTED", `${Op.describe(op)}: a data migration function cannot be compiled to SQL`, {
      hint: "The runtime calls op.run functions itself; compile only the other operations.",
      details: { operation: op.kind },
    });
  }
  const after = applyOperation(before, op);
  // Raw SQL is resolved for the exact dialect here: the dialect compilers only know the family.
  const resolved = op.kind === "execute" ? { ...op, sql: sqlForDialect(op.sql, dialect) } : op;
  return { steps: familyOf(dialect) === "postgres" ? compilePostgresOperation(resolved, before, after) : compileSqliteOperation(resolved, before, after), after };
}

export interface CompiledOperations {
  /** Every step, in order (run operations contribute none: see `units`). */
  steps: Step[];
  /** Each operation with its steps, in order; a `run` operation has no steps (the runtime calls its function). */
  units: Array<{ op: Op; steps: Step[] }>;
  /** The schema after all the operations. */
  schema: Schema;
}

/** Compile a list of operations, each against the schema left by the ones before it. */
export function compileOperations(ops: readonly Op[], dialect: Dialect, before: Schema): CompiledOperations {
  const units: CompiledOperations["units"] = [];
  let schema = before;
  for (const op of ops) {
    if (op.kind === "run") {
      units.push({ op, steps: [] });
      schema = applyOperation(schema, op);
      continue;
    }
    const compiled = compileAndApply(op, dialect, schema);
    units.push({ op, steps: compiled.steps });
    schema = compiled.after;
  }
  return { steps: units.flatMap((unit) => unit.steps), units, schema };
}

// ---------------------------------------------------------------------------------------------
// offline SQL

/** A bound value as an SQL literal of the family. */
export function sqlLiteral(value: unknown, family: SqlFamily): string {
  if (value === null || value === undefined) return "NULL";
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? String(value) : quoteLiteral(String(value));
    case "bigint":
      return value.toString();
    case "boolean":
      return family === "postgres" ? (value ? "TRUE" : "FALSE") : value ? "1" : "0";
    case "string":
      return quoteLiteral(value);
    default:
      if (value instanceof Uint8Array) {
        const hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
        return family === "postgres" ? `'\\x${hex}'::bytea` : `X'${hex}'`;
      }
      if (value instanceof Date) return quoteLiteral(value.toISOString());
      return quoteLiteral(JSON.stringify(value));
  }
}

/**
 * `sql` with its placeholders ($1… on Postgres, ? and ?NNN on SQLite) replaced by literals. String
 * literals, quoted identifiers, comments and (Postgres) dollar-quoted bodies are left alone.
 */
export function inlineParams(sql: string, params: readonly unknown[], family: SqlFamily): string {
  let out = "";
  let i = 0;
  let next = 0;
  const take = (index: number) => {
    if (index < 0 || index >= params.length) throw new RetortError("RETORT_INVALID_QUERY", `The SQL uses parameter ${index + 1} but only ${params.length} were given: ${sql}`);
    return sqlLiteral(params[index], family);
  };
  while (i < sql.length) {
    const char = sql[i]!;
    const rest = sql.slice(i);
    let skip = 0;
    if (char === "'" || char === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === char && sql[j + 1] !== char)) j += sql[j] === char ? 2 : 1;
      skip = j + 1 - i;
    } else if (rest.startsWith("--")) {
      const end = sql.indexOf("\n", i);
      skip = (end < 0 ? sql.length : end) - i;
    } else if (rest.startsWith("/*")) {
      const end = sql.indexOf("*/", i + 2);
      skip = (end < 0 ? sql.length : end + 2) - i;
    } else if (family === "postgres" && char === "$") {
      const numbered = /^\$(\d+)/.exec(rest);
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest);
      if (numbered && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
        out += take(Number(numbered[1]) - 1);
        i += numbered[0].length;
        continue;
      }
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        skip = (end < 0 ? sql.length : end + tag[0].length) - i;
      }
    } else if (family === "sqlite" && char === "?") {
      const numbered = /^\?(\d+)/.exec(rest);
      if (numbered) {
        // As in SQLite: a later bare ? takes the number after the largest one used so far.
        const index = Number(numbered[1]) - 1;
        next = Math.max(next, index + 1);
        out += take(index);
        i += numbered[0].length;
      } else {
        out += take(next++);
        i += 1;
      }
      continue;
    }
    if (skip > 0) {
      out += sql.slice(i, i + skip);
      i += skip;
    } else {
      out += char;
      i += 1;
    }
  }
  return out;
}

/**
 * Steps as an SQL script for offline review (`--sql`): each statement after a `-- description`
 * line, parameters inlined as literals, ending with `;`. Transaction control, the foreign-keys
 * pragma around SQLite rebuilds and the foreign key checks are the runtime's to add around them,
 * since they depend on how the migration is run.
 */
export function renderOfflineSql(steps: readonly Step[], dialect: Dialect): string {
  const family = familyOf(dialect);
  const lines: string[] = [];
  for (const step of steps) {
    lines.push(`-- ${step.description.replace(/[\r\n]+/g, " ")}`);
    if (step.saveTriggers !== undefined) lines.push(`-- (DROP TABLE removes the triggers on "${step.saveTriggers}": save them from sqlite_master first)`);
    const sql = (step.params && step.params.length > 0 ? inlineParams(step.sql, step.params, family) : step.sql).trim().replace(/;\s*$/, "");
    lines.push(`${sql};`);
    if (step.restoreTriggers !== undefined) lines.push(`-- (re-create the saved triggers on "${step.restoreTriggers}" here)`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
