/**
 * Models → the neutral schema snapshot. This is where the naming convention is applied, so the
 * snapshot (and every DDL statement and diff made from it) carries final database names.
 */
import { RetortError } from "../errors.js";
import type { ColumnConfig, ReferenceOptions } from "../model/column.js";
import { AUDIT_TABLE, auditLog } from "../model/audit-log.js";
import { assertEnumLabels, isEnumModel, type EnumModel } from "../model/enum.js";
import { isExtensionModel, type ExtensionModel } from "../model/extension.js";
import { isColumnRef, isTableModel, type AnyTable, type ColumnRef, type IndexTarget, type PrimaryKeyDef } from "../model/table.js";
import { isSqlExpression } from "../model/sql.js";
import { assertIdentifierFits, constraintName, expressionSlug } from "./naming.js";
import { typeModifier, withExtensions, type ColumnSchema, type Deferrable, type EnumSchema, type ForeignKeySchema, type IndexElement, type Schema, type TableSchema } from "./snapshot.js";

/** Tables, enums and extensions found among `models` (other values, such as relation declarations, are skipped). */
export function collectModels(models: Iterable<unknown> | Record<string, unknown>): { tables: AnyTable[]; enums: EnumModel[]; extensions: ExtensionModel[] } {
  const values = Symbol.iterator in Object(models) ? [...(models as Iterable<unknown>)] : Object.values(models);
  const tables = values.filter(isTableModel);
  // An audited model brings the audit table along (unless the project exports it itself), so
  // connect() can write to it and autogenerate creates it.
  if (tables.some((model) => model.$.audit) && !tables.some((model) => model.$.name === AUDIT_TABLE)) tables.push(auditLog);
  return { tables, enums: values.filter(isEnumModel), extensions: values.filter(isExtensionModel) };
}

export interface FromModelsOptions {
  /**
   * Building the table of a migration's op.createTable: the tables named here exist in the
   * database (foreign keys into them are checked by the fold, not here), and a table may have no
   * columns (Postgres allows it; a model may not).
   */
  migration?: { existingTables: Iterable<string> };
}

export function schemaFromModels(models: Iterable<unknown> | Record<string, unknown>, options: FromModelsOptions = {}): Schema {
  const { tables, enums, extensions } = collectModels(models);
  const enumSchemas = new Map<string, EnumSchema>();
  const addEnum = (name: string, values: readonly string[], where: string) => {
    const existing = enumSchemas.get(name);
    if (existing && existing.values.join("\u0000") !== values.join("\u0000")) {
      throw new RetortError("RETORT_INVALID_MODEL", `enum "${name}" is defined twice with different values (${where})`, {
        hint: "Define each enum once with enumType() and reuse it.",
      });
    }
    if (!existing) {
      // A migration's enumColumn("name") names a type created by op.createEnum, without labels.
      if (!options.migration || values.length > 0) assertEnumLabels(name, values, where);
      enumSchemas.set(name, { name, values: [...values] });
    }
  };
  for (const model of enums) addEnum(model.name, model.values, `enum "${model.name}"`);

  const tableNames = new Set<string>();
  for (const model of tables) {
    if (tableNames.has(model.$.name)) {
      throw new RetortError("RETORT_INVALID_MODEL", `two models define table "${model.$.name}"`, { hint: "Table names must be unique." });
    }
    tableNames.add(model.$.name);
    if (!options.migration && Object.keys(model.$.columns).length === 0) {
      throw new RetortError("RETORT_INVALID_MODEL", `table "${model.$.name}" has no columns`, {
        hint: "Give the table at least one column (usually a primary key such as id: t.uuid().primaryKey()).",
        details: { table: model.$.name },
      });
    }
  }
  const existing = new Set(options.migration?.existingTables ?? []);
  const known = new Set([...tableNames, ...existing]);

  const result: TableSchema[] = tables.map((model) => tableSchema(model, known, addEnum));
  assertUniqueNames(result);
  assertForeignKeyTargets(result, existing);
  return withExtensions({ tables: result, enums: [...enumSchemas.values()] }, extensions.map((model) => model.name));
}

function tableSchema(model: AnyTable, tableNames: Set<string>, addEnum: (name: string, values: readonly string[], where: string) => void): TableSchema {
  const meta = model.$;
  const tableName = meta.name;
  const dbName = (key: string) => meta.dbNames[key]!;
  const table: TableSchema = { name: tableName, columns: [], uniques: [], indexes: [], foreignKeys: [], checks: [] };
  if (meta.comment !== undefined) table.comment = meta.comment;
  if (meta.renamedFrom !== undefined) table.renamedFrom = [...meta.renamedFrom];

  const refName = (ref: ColumnRef<any>) => {
    // A misspelled column in a JavaScript models file (m.emial) arrives as undefined.
    if (!isColumnRef(ref)) {
      throw new RetortError("RETORT_INVALID_MODEL", `table "${tableName}": an index or constraint names ${ref === undefined ? "undefined" : `a ${typeof ref}`}, not one of the table's columns`, {
        hint: `Check the names in its index(), unique(), primaryKey() and foreignKey() calls: the columns are ${Object.keys(meta.columns).join(", ")}.`,
      });
    }
    if (ref.tableName !== tableName) {
      throw new RetortError("RETORT_INVALID_MODEL", `table "${tableName}": a constraint names column "${ref.key}" of table "${ref.tableName}"`, {
        hint: "Table-level constraints may only use the table's own columns.",
      });
    }
    return ref.dbName;
  };

  for (const [key, col] of Object.entries(meta.columns as Record<string, { config: ColumnConfig }>)) {
    const config = col.config;
    const name = dbName(key);
    if (config.type.kind === "enum") addEnum(config.type.name, config.enumValues ?? [], `table "${tableName}", column "${name}" (enum "${config.type.name}")`);
    table.columns.push(columnSchema(name, config));
    if (config.unique) table.uniques.push({ name: config.unique.name ?? constraintName.unique(tableName, [name]), columns: [name] });
    if (config.index) {
      const index: TableSchema["indexes"][number] = {
        name: config.index.name ?? constraintName.index(tableName, [name]),
        elements: [{ column: name }],
        unique: false,
      };
      if (config.index.using !== undefined) index.using = config.index.using;
      table.indexes.push(index);
    }
    if (config.references) {
      const target = resolveTarget(config.references.target, `${tableName}.${name}`);
      assertKnownTable(target.tableName, tableNames, `${tableName}.${name}`);
      table.foreignKeys.push(
        foreignKey(`${tableName}.${name}`, config.references, {
          name: config.references.name ?? constraintName.foreignKey(tableName, [name], target.tableName),
          columns: [name],
          refTable: target.tableName,
          refColumns: [target.dbName],
        }),
      );
    }
    config.checks.forEach((check, i) => {
      const checkName = check.name ?? constraintName.check(tableName, i === 0 ? name : `${name}_${i + 1}`);
      table.checks.push({ name: checkName, expression: check.expression });
    });
  }

  if (meta.primaryKey.length > 0) {
    const pkDef = meta.extras.find((extra): extra is PrimaryKeyDef => extra.kind === "primary-key");
    const columnName = pkDef ? undefined : meta.primaryKey.map((key) => (meta.columns[key] as { config: ColumnConfig }).config.primaryKeyName).find((n) => n !== undefined);
    table.primaryKey = { name: pkDef?.explicitName ?? columnName ?? constraintName.primaryKey(tableName), columns: meta.primaryKey.map(dbName) };
  }

  for (const extra of meta.extras) {
    if (extra.kind === "index") {
      const elements = extra.targets.map((target) => indexElement(target, refName));
      const parts = elements.map((el) => ("column" in el ? el.column : expressionSlug(el.expression)));
      const plainColumns = elements.every((el) => "column" in el && el.order === undefined && el.opclass === undefined);
      if (extra.isUnique && plainColumns && extra.options.where === undefined && extra.options.using === undefined && !extra.options.asIndex) {
        table.uniques.push({
          name: extra.options.name ?? constraintName.unique(tableName, parts),
          columns: elements.map((el) => (el as { column: string }).column),
        });
        continue;
      }
      const index: TableSchema["indexes"][number] = {
        name: extra.options.name ?? (extra.isUnique ? constraintName.unique(tableName, parts) : constraintName.index(tableName, parts)),
        elements,
        unique: extra.isUnique,
      };
      if (extra.options.where !== undefined) index.where = extra.options.where;
      if (extra.options.using !== undefined) index.using = extra.options.using;
      table.indexes.push(index);
    } else if (extra.kind === "check") {
      table.checks.push({ name: extra.explicitName ?? constraintName.check(tableName, extra.checkName), expression: extra.expression });
    } else if (extra.kind === "foreign-key") {
      const columns = extra.columns.map(refName);
      const targets = extra.targets();
      const refTable = targets[0]?.tableName;
      if (!refTable || targets.some((target) => target.tableName !== refTable) || targets.length !== columns.length) {
        throw new RetortError("RETORT_INVALID_MODEL", `table "${tableName}": foreignKey(${columns.join(", ")}) needs as many target columns, all of one table`);
      }
      assertKnownTable(refTable, tableNames, `${tableName}(${columns.join(", ")})`);
      table.foreignKeys.push(
        foreignKey(`table "${tableName}": foreignKey(${columns.join(", ")})`, extra.options, {
          name: extra.options.name ?? constraintName.foreignKey(tableName, columns, refTable),
          columns,
          refTable,
          refColumns: targets.map((target) => target.dbName),
        }),
      );
    }
  }
  return table;
}

const DEFERRABLE: readonly Deferrable[] = ["immediate", "deferred"];

function foreignKey(where: string, options: ReferenceOptions, key: Pick<ForeignKeySchema, "name" | "columns" | "refTable" | "refColumns">): ForeignKeySchema {
  const fk: ForeignKeySchema = { ...key, onDelete: options.onDelete ?? "no action", onUpdate: options.onUpdate ?? "no action" };
  if (options.deferrable === undefined) return fk;
  if (!DEFERRABLE.includes(options.deferrable)) {
    throw new RetortError("RETORT_INVALID_MODEL", `${where}: deferrable must be "immediate" or "deferred" (got ${JSON.stringify(options.deferrable)})`, {
      hint: 'deferrable: "deferred" checks the key at commit (DEFERRABLE INITIALLY DEFERRED); leave it out for a key checked at each statement.',
    });
  }
  return { ...fk, deferrable: options.deferrable };
}

function columnSchema(name: string, config: ColumnConfig): ColumnSchema {
  if (config.serial && (config.identity !== undefined || config.default !== undefined)) {
    throw new RetortError("RETORT_INVALID_MODEL", `column "${name}": a serial column is numbered by its sequence and cannot also have ${config.identity !== undefined ? "identity()" : "a default"}`, {
      hint: "Use t.serial() alone, or t.integer() with .identity() or .default(…).",
    });
  }
  const column: ColumnSchema = { name, type: config.type, nullable: config.nullable };
  if (config.default !== undefined) column.default = config.default;
  if (config.identity !== undefined) column.identity = config.identity;
  if (config.serial) column.serial = true;
  if (config.comment !== undefined) column.comment = config.comment;
  if (config.renamedFrom !== undefined) column.renamedFrom = [...config.renamedFrom];
  return column;
}

function indexElement(target: IndexTarget, refName: (ref: ColumnRef<any>) => string): IndexElement {
  const { ref, order, opclass } =
    isColumnRef(target) || isSqlExpression(target) || typeof target !== "object" || target === null ? { ref: target, order: undefined, opclass: undefined } : target;
  const element: IndexElement = isSqlExpression(ref) ? { expression: ref.text } : { column: refName(ref as ColumnRef<any>) };
  if (order !== undefined) element.order = order;
  if (opclass !== undefined) element.opclass = opclass;
  return element;
}

function resolveTarget(target: () => unknown, where: string): ColumnRef<any> {
  let ref: unknown;
  try {
    ref = target();
  } catch (error) {
    throw new RetortError("RETORT_INVALID_MODEL", `${where}: its references(() => …) callback failed: ${(error as Error).message}`, { cause: error });
  }
  if (!isColumnRef(ref)) {
    throw new RetortError("RETORT_INVALID_MODEL", `${where}: references(() => …) must return a model column such as guilds.id`);
  }
  return ref;
}

function assertKnownTable(name: string, tableNames: Set<string>, where: string): void {
  if (!tableNames.has(name)) {
    throw new RetortError("RETORT_INVALID_MODEL", `${where} references table "${name}", which is not among the models given`, {
      hint: `Pass the "${name}" model too (connect(url, { schema: { …, ${name} } })).`,
    });
  }
}

/** Constraint and index names share one namespace per schema on Postgres; catch clashes early. */
function assertUniqueNames(tables: TableSchema[]): void {
  const seen = new Map<string, string>();
  for (const table of tables) {
    const names = [
      ...(table.primaryKey ? [table.primaryKey.name] : []),
      ...table.uniques.map((u) => u.name),
      ...table.indexes.map((i) => i.name),
      ...table.foreignKeys.map((f) => f.name),
      ...table.checks.map((c) => c.name),
    ];
    for (const check of table.checks) {
      if (typeof check.expression !== "string" || check.expression.trim() === "") {
        throw new RetortError("RETORT_INVALID_MODEL", `table "${table.name}", check "${check.name}": the expression is empty`, {
          hint: "Give .check() / check() the SQL condition, e.g. sql`score >= 0`.",
          details: { table: table.name, check: check.name },
        });
      }
    }
    for (const name of names) {
      assertIdentifierFits(name, `table "${table.name}", constraint/index "${name}"`, { table: table.name });
      const other = seen.get(name);
      if (other !== undefined) {
        throw new RetortError("RETORT_INVALID_MODEL", `constraint/index name "${name}" is used twice (tables "${other}" and "${table.name}")`, {
          hint: "Give one of them an explicit name.",
        });
      }
      seen.set(name, table.name);
    }
  }
}

/**
 * A foreign key must point at the target's primary key or a unique key (Postgres refuses the
 * constraint otherwise; SQLite accepts it and then fails every write), with the same column types.
 */
function assertForeignKeyTargets(tables: TableSchema[], existing: ReadonlySet<string>): void {
  const byName = new Map(tables.map((table) => [table.name, table]));
  for (const table of tables) {
    for (const fk of table.foreignKeys) {
      const target = byName.get(fk.refTable);
      if (!target || existing.has(fk.refTable)) continue;
      const where = `table "${table.name}", ${fk.columns.length === 1 ? `column "${fk.columns[0]}"` : `columns (${fk.columns.join(", ")})`}`;
      const details = { table: table.name, columns: fk.columns, refTable: fk.refTable, refColumns: fk.refColumns };
      fk.columns.forEach((name, i) => {
        const refName = fk.refColumns[i]!;
        const refColumn = target.columns.find((column) => column.name === refName);
        if (!refColumn) {
          throw new RetortError("RETORT_INVALID_MODEL", `${where} references "${fk.refTable}"."${refName}", which is not a column of "${fk.refTable}"`, {
            hint: `Reference one of its columns: ${target.columns.map((column) => column.name).join(", ")}.`,
            details,
          });
        }
        const column = table.columns.find((candidate) => candidate.name === name)!;
        if (typeName(column) !== typeName(refColumn)) {
          throw new RetortError(
            "RETORT_INVALID_MODEL",
            `${where}: "${table.name}"."${name}" is ${typeName(column)} but references "${fk.refTable}"."${refName}", which is ${typeName(refColumn)}`,
            { hint: `Give "${name}" the type of the column it references (${typeName(refColumn)}).`, details },
          );
        }
      });
      if (!isKeyOf(target, fk)) {
        const keys = candidateKeys(target).map((key) => `(${key.join(", ")})`);
        throw new RetortError(
          "RETORT_INVALID_MODEL",
          `${where} references "${fk.refTable}"(${fk.refColumns.join(", ")}), which is neither the primary key nor a unique key of "${fk.refTable}"`,
          {
            hint: keys.length
              ? `Reference a key of "${fk.refTable}": ${keys.join(" or ")}; or make (${fk.refColumns.join(", ")}) unique there.`
              : `"${fk.refTable}" has no primary or unique key: add one on (${fk.refColumns.join(", ")}).`,
            details,
          },
        );
      }
    }
  }
}

/** The column sets a foreign key may reference: the primary key, unique constraints, full unique indexes on plain columns. */
function candidateKeys(table: TableSchema): string[][] {
  return [
    ...(table.primaryKey ? [table.primaryKey.columns] : []),
    ...table.uniques.map((unique) => unique.columns),
    ...table.indexes
      .filter((index) => index.unique && index.where === undefined && index.elements.every((element) => "column" in element))
      .map((index) => index.elements.map((element) => (element as { column: string }).column)),
  ];
}

function isKeyOf(table: TableSchema, fk: ForeignKeySchema): boolean {
  const wanted = [...fk.refColumns].sort().join("\u0000");
  return candidateKeys(table).some((key) => [...key].sort().join("\u0000") === wanted);
}

/** The logical type as written in a model, parameters included: varchar(100), numeric(10,2), enum guild_role. */
function typeName(column: ColumnSchema): string {
  const type = column.type;
  switch (type.kind) {
    case "enum":
      return `enum ${type.name}`;
    case "array":
      return `${typeName({ ...column, type: type.element })}[]`;
    default:
      return `${type.kind}${typeModifier(type)}`;
  }
}
