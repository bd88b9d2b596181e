/**
 * Reversing operations: what a downgrade runs. Every operation that removes or changes something
 * needs the `previous` state to be reversed; autogenerate always records it, and
 * `annotateOperation` fills it in from the schema before the operation (so hand-written
 * migrations can be reversed too when that schema is known). Where nothing can restore what the
 * operation did, RETORT_IRREVERSIBLE names the operation and says what to write instead.
 */
import { columnType } from "../dialects/postgres/ddl.js";
import { quoteIdent } from "../dialects/sql-text.js";
import { RetortError } from "../errors.js";
import type { Schema } from "../schema/snapshot.js";
import { applyOperation } from "./apply.js";
import { Op, type AlterColumnOp, type ColumnChanges, type ConstraintSchema, type DataOp } from "./types.js";

function irreversible(op: Op, reason: string, hint: string): RetortError {
  return new RetortError("RETORT_IRREVERSIBLE", `${Op.describe(op)} cannot be reversed: ${reason}`, { hint, details: { operation: op.kind } });
}

const fieldsOf = (changes: ColumnChanges) => (["type", "nullable", "default", "comment", "serial"] as const).filter((field) => changes[field] !== undefined);

function reverseAlterColumn(op: AlterColumnOp): AlterColumnOp {
  const changed = fieldsOf(op);
  const previous = op.previous ?? {};
  const missing = changed.filter((field) => previous[field] === undefined);
  if (missing.length > 0) {
    throw irreversible(
      op,
      `its previous ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not recorded`,
      `Write the downgrade by hand (op.alterColumn("${op.table}", "${op.name}", { ${missing.map((field) => `${field}: …`).join(", ")} })), or record the old values in previous.`,
    );
  }
  const back: { -readonly [K in keyof AlterColumnOp]: AlterColumnOp[K] } = { kind: "alterColumn", table: op.table, name: op.name };
  const forward: { -readonly [K in keyof ColumnChanges]: ColumnChanges[K] } = {};
  for (const field of changed) {
    (back as Record<string, unknown>)[field] = previous[field];
    (forward as Record<string, unknown>)[field] = op[field];
  }
  // Postgres needs USING when there is no implicit cast back; an explicit cast to the old type covers the common cases.
  if (previous.type !== undefined) back.using = `${quoteIdent(op.name)}::${columnType(previous.type)}`;
  back.previous = forward;
  return back;
}

function constraintAdd(table: string, previous: ConstraintSchema): DataOp {
  if ("primaryKey" in previous) return { kind: "addPrimaryKey", table, primaryKey: previous.primaryKey };
  if ("unique" in previous) return { kind: "addUnique", table, unique: previous.unique };
  if ("foreignKey" in previous) return { kind: "addForeignKey", table, foreignKey: previous.foreignKey };
  return { kind: "addCheck", table, check: previous.check };
}

/** The operation that undoes `op`. Throws RETORT_IRREVERSIBLE when there is none (or its `previous` is missing). */
export function reverseOperation(op: Op): Op {
  return Op.freeze(reverse(op));
}

function reverse(op: Op): Op {
  switch (op.kind) {
    case "createTable":
      return { kind: "dropTable", name: op.table.name, previous: op.table };
    case "dropTable":
      if (!op.previous) {
        throw irreversible(op, "the dropped table's definition is not recorded", `Write the downgrade as op.createTable("${op.name}", { … }) with the table's columns (its rows are not restored either).`);
      }
      return { kind: "createTable", table: op.previous };
    case "renameTable":
      return { kind: "renameTable", from: op.to, to: op.from };
    case "addColumn":
      return { kind: "dropColumn", table: op.table, name: op.column.name, previous: op.column };
    case "dropColumn":
      if (!op.previous) {
        throw irreversible(op, "the dropped column's definition is not recorded", `Write the downgrade as op.addColumn("${op.table}", "${op.name}", t.…()) (its values are not restored).`);
      }
      return { kind: "addColumn", table: op.table, column: op.previous };
    case "renameColumn":
      return { kind: "renameColumn", table: op.table, from: op.to, to: op.from };
    case "alterColumn":
      return reverseAlterColumn(op);
    case "createIndex":
      return { kind: "dropIndex", table: op.table, name: op.index.name, previous: op.index, ...(op.concurrently ? { concurrently: true } : {}) };
    case "dropIndex":
      if (!op.previous || op.table === undefined) {
        throw irreversible(op, "the dropped index's definition is not recorded", `Write the downgrade as op.createIndex("${op.name}", "<table>", [...columns]).`);
      }
      return { kind: "createIndex", table: op.table, index: op.previous, ...(op.concurrently ? { concurrently: true } : {}) };
    case "addPrimaryKey":
      return { kind: "dropConstraint", table: op.table, name: op.primaryKey.name, previous: { primaryKey: op.primaryKey } };
    case "addUnique":
      return { kind: "dropConstraint", table: op.table, name: op.unique.name, previous: { unique: op.unique } };
    case "addForeignKey":
      return { kind: "dropConstraint", table: op.table, name: op.foreignKey.name, previous: { foreignKey: op.foreignKey } };
    case "addCheck":
      return { kind: "dropConstraint", table: op.table, name: op.check.name, previous: { check: op.check } };
    case "dropConstraint":
      if (!op.previous) {
        throw irreversible(op, "the dropped constraint's definition is not recorded", `Write the downgrade with op.addPrimaryKey / addUnique / addForeignKey / addCheck for "${op.name}".`);
      }
      return constraintAdd(op.table, op.previous);
    case "validateConstraint":
      // Nothing to undo: validating is idempotent, and validity is not part of the schema.
      return op;
    case "createEnum":
      return { kind: "dropEnum", name: op.enum.name, previous: op.enum };
    case "dropEnum":
      if (!op.previous) {
        throw irreversible(op, "the dropped enum's values are not recorded", `Write the downgrade as op.createEnum("${op.name}", [...values]).`);
      }
      return { kind: "createEnum", enum: op.previous };
    case "addEnumValue":
      throw irreversible(
        op,
        "Postgres cannot remove a value from an enum type without rebuilding the type",
        `Leave the value in place (write an empty downgrade, or op.execute to move rows off '${op.value}'), or rebuild the type by hand: create a new enum without it, op.alterColumn(…, { type, using }) each column, drop the old type.`,
      );
    case "renameEnumValue":
      return { kind: "renameEnumValue", enum: op.enum, from: op.to, to: op.from };
    case "createExtension":
      return { kind: "dropExtension", name: op.name };
    case "dropExtension":
      return { kind: "createExtension", name: op.name };
    case "execute":
      if (op.reverseSql === undefined) {
        throw irreversible(op, "raw SQL has no known reverse", "Give the undoing SQL: op.execute(sql, params, { reverseSql }), or write the downgrade by hand.");
      }
      return { kind: "execute", sql: op.reverseSql, reverseSql: op.sql };
    case "bulkInsert":
      throw irreversible(op, "inserted rows are not tracked", `Write the downgrade as op.execute("DELETE FROM … WHERE …") for the rows this migration inserted into "${op.table}".`);
    case "run":
      throw irreversible(op, "a data migration function has no automatic reverse", "Write the downgrade by hand, with its own op.run(…) if data must be changed back.");
  }
}

/**
 * `op` with its `previous` (and a dropIndex's table) filled in from `schema`, the schema before
 * it. Fields already present are kept.
 */
export function annotateOperation(schema: Schema, op: Op): Op {
  const table = (name: string) => schema.tables.find((candidate) => candidate.name === name);
  switch (op.kind) {
    case "dropTable": {
      const previous = op.previous ?? table(op.name);
      return previous ? Op.freeze({ ...op, previous: structuredClone(previous) }) : op;
    }
    case "dropColumn": {
      const previous = op.previous ?? table(op.table)?.columns.find((column) => column.name === op.name);
      return previous ? Op.freeze({ ...op, previous: structuredClone(previous) }) : op;
    }
    case "alterColumn": {
      const column = table(op.table)?.columns.find((candidate) => candidate.name === op.name);
      if (!column) return op;
      const previous: { -readonly [K in keyof ColumnChanges]: ColumnChanges[K] } = { ...op.previous };
      const current: Record<keyof ColumnChanges, unknown> = {
        type: column.type,
        nullable: column.nullable,
        default: column.default ?? null,
        comment: column.comment ?? null,
        serial: column.serial === true,
      };
      for (const field of fieldsOf(op)) if (previous[field] === undefined) (previous as Record<string, unknown>)[field] = structuredClone(current[field]);
      return Op.freeze({ ...op, previous });
    }
    case "dropIndex": {
      const owner = op.table === undefined ? schema.tables.find((candidate) => candidate.indexes.some((index) => index.name === op.name)) : table(op.table);
      const index = owner?.indexes.find((candidate) => candidate.name === op.name);
      if (!owner || !index) return op;
      return Op.freeze({ ...op, table: owner.name, previous: op.previous ?? structuredClone(index) });
    }
    case "dropConstraint": {
      if (op.previous) return op;
      const owner = table(op.table);
      if (!owner) return op;
      let previous: ConstraintSchema | undefined;
      if (owner.primaryKey?.name === op.name) previous = { primaryKey: owner.primaryKey };
      const unique = owner.uniques.find((candidate) => candidate.name === op.name);
      if (unique) previous = { unique };
      const foreignKey = owner.foreignKeys.find((candidate) => candidate.name === op.name);
      if (foreignKey) previous = { foreignKey };
      const check = owner.checks.find((candidate) => candidate.name === op.name);
      if (check) previous = { check };
      return previous ? Op.freeze({ ...op, previous: structuredClone(previous) }) : op;
    }
    case "dropEnum": {
      const previous = op.previous ?? schema.enums.find((candidate) => candidate.name === op.name);
      return previous ? Op.freeze({ ...op, previous: structuredClone(previous) }) : op;
    }
    default:
      return op;
  }
}

/**
 * The operations that undo `ops`, in reverse order. With `before` (the schema before the first
 * operation), missing `previous` fields are filled in from the schema as it is folded forward,
 * so hand-written migrations reverse too.
 */
export function reverseOperations(ops: readonly Op[], before?: Schema): Op[] {
  let annotated: readonly Op[] = ops;
  if (before !== undefined) {
    const out: Op[] = [];
    let schema = before;
    for (const op of ops) {
      const full = annotateOperation(schema, op);
      out.push(full);
      schema = applyOperation(schema, full);
    }
    annotated = out;
  }
  return annotated.map(reverseOperation).reverse();
}

