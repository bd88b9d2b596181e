/**
 * Raw Postgres SQL (op.execute) folded into the schema snapshot, read by the real parser: the
 * DDL the snapshot describes (tables, columns, constraints, indexes, enums, comments, identity,
 * extensions of the public schema)
 * becomes the same operations a migration would record and is applied by the same fold
 * (operations/apply.ts); statements that change nothing the snapshot describes (DML, sequences,
 * functions, triggers, views, grants) fold to nothing. Anything else — or anything this module is
 * not sure of, such as a generated name Postgres would shorten or number — is "unfoldable", and
 * the caller runs the migrations on an ephemeral database instead. Never a guess.
 *
 * Unnamed constraints and indexes get the names Postgres gives them: `<table>_pkey`,
 * `<table>_<cols>_key`, `<table>_<cols>_fkey`, `<table>_<col>_check`, `<table>_<cols>_idx`.
 */
import { RetortError } from "../../errors.js";
import { applyOperation } from "../../operations/apply.js";
import type { Op } from "../../operations/types.js";
import { isArrayElementType, MAX_TIME_PRECISION } from "../../schema/snapshot.js";
import type { ColumnSchema, ColumnType, DefaultValue, Deferrable, ForeignKeySchema, IndexElement, IndexSchema, ReferentialAction, Schema, TableSchema } from "../../schema/snapshot.js";
import type { PgNode, PostgresParser } from "../../sql/parser.js";
import { decodeDefault } from "./introspect-defaults.js";

export type FoldResult = { schema: Schema } | { unfoldable: string };

/** Thrown inside the fold to give up on a statement; caught by foldPostgresSql. */
class Unfoldable extends Error {}

/** The sequence a `nextval('s'::regclass)` default draws from. */
function nextvalSequence(value: DefaultValue | null | undefined): string | undefined {
  if (value?.kind !== "sql") return undefined;
  return /^nextval\('(?:public\.)?"?([^'"]+)"?'(?:::regclass)?\)$/.exec(value.sql.trim())?.[1];
}

/** Column-constraint attribute nodes (the grammar's ConstraintAttr), which qualify the constraint before them. */
const ATTRIBUTES = new Set(["CONSTR_ATTR_DEFERRABLE", "CONSTR_ATTR_NOT_DEFERRABLE", "CONSTR_ATTR_DEFERRED", "CONSTR_ATTR_IMMEDIATE"]);

/** The snapshot's deferrability of DEFERRABLE / INITIALLY DEFERRED flags (INITIALLY DEFERRED implies DEFERRABLE). */
function deferrability(deferrable: boolean, initiallyDeferred: boolean): { deferrable?: Deferrable } {
  if (initiallyDeferred) return { deferrable: "deferred" };
  return deferrable ? { deferrable: "immediate" } : {};
}

function withAttribute(current: Deferrable | undefined, attribute: string): { deferrable?: Deferrable } {
  switch (attribute) {
    case "CONSTR_ATTR_DEFERRABLE":
      return { deferrable: current ?? "immediate" };
    case "CONSTR_ATTR_DEFERRED":
      return { deferrable: "deferred" };
    case "CONSTR_ATTR_IMMEDIATE":
      return current === undefined ? {} : { deferrable: "immediate" };
    default:
      if (current === "deferred") giveUp("NOT DEFERRABLE INITIALLY DEFERRED is an error");
      return {};
  }
}

function giveUp(reason: string): never {
  throw new Unfoldable(reason);
}

/** Fold every statement of `sql` over `schema`; on the first statement it cannot fold, say why. */
export function foldPostgresSql(schema: Schema, sql: string, parser: PostgresParser): FoldResult {
  let statements: PgNode[];
  try {
    statements = parser.parse(sql);
  } catch (error) {
    return { unfoldable: (error as Error).message };
  }
  let current = schema;
  for (const statement of statements) {
    try {
      current = new StatementFold(current, parser).fold(statement);
    } catch (error) {
      if (error instanceof Unfoldable) return { unfoldable: `${Object.keys(statement)[0]}: ${error.message}` };
      // The operation does not fit the schema: the database would tell us more.
      if (error instanceof RetortError) return { unfoldable: error.message };
      throw error;
    }
  }
  return { schema: current };
}

/** Statements that change nothing the snapshot describes. */
const NO_SCHEMA_EFFECT = new Set([
  "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "VariableSetStmt",
  "CreateFunctionStmt", "AlterFunctionStmt", "CreateTrigStmt", "ViewStmt", "GrantStmt", "GrantRoleStmt", "AlterOwnerStmt",
  "CreatePolicyStmt", "AlterPolicyStmt", "NotifyStmt", "LockStmt", "AlterDefaultPrivilegesStmt",
  "CreateSchemaStmt", "AnalyzeStmt",
]);
/** DROP of objects the snapshot does not hold (DROP … CASCADE of them still reaches only views and the like). */
const DROPS_WITHOUT_EFFECT = new Set(["OBJECT_SEQUENCE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"]);
/** ALTER TABLE subcommands that change nothing the snapshot describes. */
const ALTER_WITHOUT_EFFECT = new Set([
  "AT_ValidateConstraint", "AT_SetStatistics", "AT_SetStorage", "AT_ClusterOn", "AT_DropCluster", "AT_SetRelOptions", "AT_ResetRelOptions",
  "AT_EnableTrig", "AT_DisableTrig", "AT_EnableTrigAll", "AT_DisableTrigAll", "AT_EnableTrigUser", "AT_DisableTrigUser", "AT_EnableAlwaysTrig",
  "AT_EnableReplicaTrig", "AT_EnableRowSecurity", "AT_DisableRowSecurity", "AT_ForceRowSecurity", "AT_NoForceRowSecurity", "AT_ChangeOwner",
  "AT_SetLogged", "AT_SetUnLogged", "AT_ReplicaIdentity",
]);

const ACTIONS: Record<string, ReferentialAction> = { a: "no action", r: "restrict", c: "cascade", n: "set null", d: "set default" };
const MAX_NAME = 63;

const strings = (list: PgNode[] | undefined): string[] => (list ?? []).map((item) => item.String?.sval as string);

/** The type name of a TypeName node, as Postgres resolves the parser's names. */
function typeNames(typeName: PgNode): string[] {
  return strings(typeName.names).filter((name, i, all) => !(name === "pg_catalog" && i < all.length - 1));
}

const SIMPLE_TYPES: Record<string, ColumnType["kind"]> = {
  uuid: "uuid", text: "text", int2: "smallint", int4: "integer", int8: "bigint", float4: "real", float8: "double", bool: "boolean",
  timestamptz: "timestamptz", timestamp: "timestamp", date: "date", time: "time", jsonb: "jsonb", json: "json", bytea: "bytea", inet: "inet",
};
/** Operator classes never a type's default: the LIKE-prefix classes Django gives indexed text columns. */
const PATTERN_OPCLASSES = new Set(["varchar_pattern_ops", "text_pattern_ops", "bpchar_pattern_ops"]);
/** The types whose one modifier is a fractional-second precision. */
const TIME_KINDS = new Set<ColumnType["kind"]>(["timestamptz", "timestamp", "time"]);
const SERIALS: Record<string, ColumnType["kind"]> = { serial: "integer", serial4: "integer", bigserial: "bigint", serial8: "bigint", smallserial: "smallint", serial2: "smallint" };

class StatementFold {
  constructor(
    private schema: Schema,
    private readonly parser: PostgresParser,
  ) {}

  fold(statement: PgNode): Schema {
    const [kind, node] = Object.entries(statement)[0] as [string, PgNode];
    if (NO_SCHEMA_EFFECT.has(kind)) return this.schema;
    switch (kind) {
      case "SelectStmt":
        if (node.intoClause) giveUp("SELECT INTO creates a table");
        return this.schema;
      case "CreateStmt":
        return this.createTable(node);
      case "AlterTableStmt":
        return this.alterTable(node);
      case "IndexStmt":
        return this.createIndex(node);
      case "DropStmt":
        return this.drop(node);
      case "RenameStmt":
        return this.rename(node);
      case "CreateExtensionStmt":
        return this.createExtension(node);
      case "CreateEnumStmt":
        return this.apply({ kind: "createEnum", enum: { name: this.typeName(node.typeName), values: strings(node.vals) } });
      case "AlterEnumStmt":
        return this.alterEnum(node);
      case "CommentStmt":
        return this.comment(node);
      case "CreateSeqStmt":
      case "AlterSeqStmt":
        return this.sequenceOwner(node);
      case "CreateTableAsStmt":
        if (node.objtype === "OBJECT_MATVIEW") return this.schema;
        return giveUp("CREATE TABLE AS takes its columns from a query");
      default:
        return giveUp("not a statement the fold knows");
    }
  }

  private apply(op: Op): Schema {
    this.schema = applyOperation(this.schema, op);
    return this.schema;
  }

  // -- names ------------------------------------------------------------------------------

  /** A relation of the public schema (or unqualified); anything else is outside the snapshot. */
  private relation(rangeVar: PgNode): string {
    if (rangeVar.schemaname !== undefined && rangeVar.schemaname !== "public") giveUp(`"${rangeVar.schemaname}.${rangeVar.relname}" is outside the public schema`);
    return rangeVar.relname as string;
  }

  private typeName(list: PgNode[]): string {
    const names = strings(list);
    if (names.length > 1 && names[0] !== "public") giveUp(`type "${names.join(".")}" is outside the public schema`);
    return names[names.length - 1]!;
  }

  private table(name: string): TableSchema {
    return this.schema.tables.find((table) => table.name === name) ?? giveUp(`table "${name}" is not in the schema`);
  }

  /** Every index and constraint name in use (Postgres: relation names schema-wide, constraints per table). */
  private namesInUse(): Set<string> {
    const names = new Set<string>();
    for (const table of this.schema.tables) {
      names.add(table.name);
      if (table.primaryKey) names.add(table.primaryKey.name);
      for (const list of [table.uniques, table.indexes, table.foreignKeys, table.checks]) for (const item of list) names.add(item.name);
    }
    return names;
  }

  /** The name Postgres would choose, when it would not have to shorten or number it. */
  private generatedName(parts: string[], label: string, taken: Set<string> = new Set()): string {
    const name = [...parts, label].join("_");
    if (Buffer.byteLength(name) > MAX_NAME) giveUp(`Postgres would shorten the generated name "${name}"`);
    if (this.namesInUse().has(name) || taken.has(name)) giveUp(`Postgres would number the generated name "${name}" (it is taken)`);
    taken.add(name);
    return name;
  }

  // -- sequences ---------------------------------------------------------------------------

  /** Sequences owned by a column (OWNED BY), which makes a column defaulting to nextval() of it a serial. */
  private readonly sequenceOwners = new Map<string, string>();

  private ownedBy(sequence: string | undefined, table: string, column: string): boolean {
    return sequence !== undefined && this.sequenceOwners.get(sequence) === `${table}.${column}`;
  }

  /** CREATE/ALTER SEQUENCE … OWNED BY t.c: the column becomes serial when its default is nextval() of it. */
  private sequenceOwner(node: PgNode): Schema {
    const sequence = this.relation(node.sequence);
    for (const option of node.options ?? []) {
      const def = option.DefElem as PgNode | undefined;
      if (def?.defname !== "owned_by") continue;
      const parts = strings(def.arg?.List?.items ?? []);
      if (parts.length === 1 && parts[0]!.toLowerCase() === "none") giveUp("OWNED BY NONE turns a serial into a plain default");
      const [table, column] = parts.length === 3 && parts[0] === "public" ? parts.slice(1) : parts;
      if (parts.length > 3 || table === undefined || column === undefined) giveUp(`OWNED BY ${parts.join(".")} is outside the public schema`);
      this.sequenceOwners.set(sequence, `${table}.${column}`);
      const owner = this.column(table, column);
      if (nextvalSequence(owner.default) === sequence) this.apply({ kind: "alterColumn", table, name: column, default: null, serial: true });
    }
    return this.schema;
  }

  // -- columns ----------------------------------------------------------------------------

  private columnType(typeName: PgNode): { type: ColumnType; serial: boolean } {
    const names = typeNames(typeName);
    const name = names[names.length - 1]!;
    // The parser leaves out a zero (protobuf's default): `time(0)` has { ival: {} }.
    const mods = (typeName.typmods ?? []).map((mod: PgNode) => {
      const ival = mod.A_Const?.ival;
      if (ival === undefined) return giveUp("a type modifier that is not a number");
      return typeof ival === "object" ? (ival.ival ?? 0) : ival;
    });
    const arrayBounds = typeName.arrayBounds ?? [];
    if (names.length > 1 && names[0] !== "public") giveUp(`type "${names.join(".")}" is not supported`);
    if (arrayBounds.length > 0) {
      // `integer[]`, `varchar(20)[]`, `int4[3]` (Postgres ignores the bound): the element type with the array's modifiers.
      if (arrayBounds.length > 1) giveUp(`${name}${"[]".repeat(arrayBounds.length)}: arrays of more than one dimension are not supported`);
      const element = this.columnType({ ...typeName, arrayBounds: undefined });
      if (element.serial || !isArrayElementType(element.type)) giveUp(`${name}[]: arrays of ${name} are not supported`);
      return { type: { kind: "array", element: element.type }, serial: false };
    }
    const serial = SERIALS[name];
    if (serial) return { type: { kind: serial } as ColumnType, serial: true };
    const simple = SIMPLE_TYPES[name];
    if (simple) {
      if (mods.length === 0) return { type: { kind: simple } as ColumnType, serial: false };
      const precision = Number(mods[0]);
      if (!TIME_KINDS.has(simple) || mods.length > 1 || !(precision >= 0 && precision <= MAX_TIME_PRECISION)) giveUp(`${name}(${mods.join(", ")}) is not a type the snapshot describes`);
      return { type: { kind: simple, precision } as ColumnType, serial: false };
    }
    if (name === "varchar") {
      if (mods.length > 1) giveUp("varchar with more than a length");
      return { type: mods.length === 0 ? { kind: "varchar" } : { kind: "varchar", length: Number(mods[0]) }, serial: false };
    }
    if (name === "numeric") {
      if (mods.length === 0) return { type: { kind: "numeric" }, serial: false };
      const [precision, scale = 0] = mods.map(Number);
      if (scale < 0 || scale > precision!) giveUp("a numeric scale outside 0..precision");
      return { type: scale === 0 ? { kind: "numeric", precision: precision! } : { kind: "numeric", precision: precision!, scale }, serial: false };
    }
    if (names.length === 1 && this.schema.enums.some((e) => e.name === name)) return { type: { kind: "enum", name }, serial: false };
    return giveUp(`type "${names.join(".")}" is not one the snapshot describes`);
  }

  private defaultOf(expr: PgNode, type: ColumnType): DefaultValue {
    return decodeDefault(this.parser.deparseExpression(expr), type);
  }

  /**
   * A column definition: the column, and its column-level constraints as operations to apply
   * after the column exists (they are named the way Postgres names them).
   */
  private columnDef(tableName: string, def: PgNode, taken: Set<string>): { column: ColumnSchema; constraints: Op[] } {
    const name = def.colname as string;
    if (def.collClause) giveUp("collations are not in the snapshot");
    const { type, serial } = this.columnType(def.typeName);
    const column: ColumnSchema = { name, type, nullable: !serial };
    if (serial) {
      // Its sequence, <table>_<column>_seq, is owned by the column; the snapshot says serial.
      this.generatedName([tableName, name], "seq", taken);
      column.serial = true;
    }
    const constraints: Op[] = [];
    for (const wrapped of def.constraints ?? []) {
      const c = wrapped.Constraint as PgNode;
      if (ATTRIBUTES.has(c.contype)) {
        // A column constraint's DEFERRABLE / INITIALLY … comes as its own node after the constraint.
        const previous = constraints.at(-1);
        if (previous?.kind !== "addForeignKey") giveUp("DEFERRABLE on a constraint other than a foreign key is not in the snapshot");
        const { deferrable, ...foreignKey } = previous.foreignKey;
        constraints[constraints.length - 1] = { ...previous, foreignKey: { ...foreignKey, ...withAttribute(deferrable, c.contype) } };
        continue;
      }
      switch (c.contype) {
        case "CONSTR_NULL":
          column.nullable = true;
          break;
        case "CONSTR_NOTNULL":
          column.nullable = false;
          break;
        case "CONSTR_DEFAULT":
          column.default = this.defaultOf(c.raw_expr, type);
          break;
        case "CONSTR_IDENTITY":
          column.identity = c.generated_when === "a" ? "always" : "by-default";
          column.nullable = false;
          break;
        case "CONSTR_PRIMARY":
          column.nullable = false;
          constraints.push({ kind: "addPrimaryKey", table: tableName, primaryKey: { name: c.conname ?? this.generatedName([tableName], "pkey", taken), columns: [name] } });
          break;
        default:
          constraints.push(this.constraint(tableName, c, [name], taken));
      }
    }
    return { column, constraints };
  }

  /** A table or column constraint → its operation. `columns`: the column of a column constraint. */
  private constraint(tableName: string, c: PgNode, columns: string[] | undefined, taken: Set<string>): Op {
    if (c.indexname) giveUp("constraints USING INDEX are not folded");
    if (c.including?.length) giveUp("INCLUDE columns are not in the snapshot");
    if (c.nulls_not_distinct) giveUp("NULLS NOT DISTINCT is not in the snapshot");
    if ((c.deferrable || c.initdeferred) && c.contype !== "CONSTR_FOREIGN") giveUp("DEFERRABLE on a constraint other than a foreign key is not in the snapshot");
    const keys = c.keys ? strings(c.keys) : columns ?? [];
    switch (c.contype) {
      case "CONSTR_PRIMARY":
        return { kind: "addPrimaryKey", table: tableName, primaryKey: { name: c.conname ?? this.generatedName([tableName], "pkey", taken), columns: keys } };
      case "CONSTR_UNIQUE":
        return { kind: "addUnique", table: tableName, unique: { name: c.conname ?? this.generatedName([tableName, ...keys], "key", taken), columns: keys } };
      case "CONSTR_CHECK": {
        const expression = this.parser.deparseExpression(c.raw_expr);
        // Postgres names a CHECK after its column only when the expression mentions exactly one.
        const mentioned = [...new Set(columnsIn(c.raw_expr))];
        const column = mentioned.length === 1 ? mentioned[0] : undefined;
        const name = c.conname ?? this.generatedName(column ? [tableName, column] : [tableName], "check", taken);
        return { kind: "addCheck", table: tableName, check: { name, expression }, ...(c.skip_validation ? { notValid: true } : {}) };
      }
      case "CONSTR_FOREIGN": {
        const fkColumns = c.fk_attrs ? strings(c.fk_attrs) : columns ?? [];
        const refTable = this.relation(c.pktable);
        let refColumns = strings(c.pk_attrs);
        if (refColumns.length === 0) {
          const target = refTable === tableName && !this.schema.tables.some((t) => t.name === tableName) ? undefined : this.table(refTable);
          refColumns = target?.primaryKey?.columns ?? giveUp(`"${refTable}" has no primary key for the reference to use`);
        }
        if (c.fk_matchtype && c.fk_matchtype !== "s") giveUp("MATCH FULL is not in the snapshot");
        const foreignKey: ForeignKeySchema = {
          name: c.conname ?? this.generatedName([tableName, ...fkColumns], "fkey", taken),
          columns: fkColumns,
          refTable,
          refColumns,
          onDelete: ACTIONS[c.fk_del_action ?? "a"] ?? giveUp("an unknown ON DELETE action"),
          onUpdate: ACTIONS[c.fk_upd_action ?? "a"] ?? giveUp("an unknown ON UPDATE action"),
          ...deferrability(Boolean(c.deferrable), Boolean(c.initdeferred)),
        };
        return { kind: "addForeignKey", table: tableName, foreignKey, ...(c.skip_validation ? { notValid: true } : {}) };
      }
      default:
        return giveUp(`${c.contype} constraints are not in the snapshot`);
    }
  }

  // -- statements -------------------------------------------------------------------------

  private createTable(node: PgNode): Schema {
    const name = this.relation(node.relation);
    if (node.relation.relpersistence === "t") return this.schema; // a temporary table lasts one session
    if (node.inhRelations || node.partbound || node.partspec || node.ofTypename) giveUp("inheritance, partitions and typed tables are not folded");
    if (node.if_not_exists && this.schema.tables.some((table) => table.name === name)) return this.schema;
    const taken = new Set<string>();
    const columns: ColumnSchema[] = [];
    const later: Op[] = [];
    const tableConstraints: PgNode[] = [];
    for (const element of node.tableElts ?? []) {
      if (element.ColumnDef) {
        const { column, constraints } = this.columnDef(name, element.ColumnDef, taken);
        columns.push(column);
        later.push(...constraints);
      } else if (element.Constraint) {
        tableConstraints.push(element.Constraint);
      } else {
        giveUp("LIKE and other table elements are not folded");
      }
    }
    for (const c of tableConstraints) {
      if (c.contype === "CONSTR_PRIMARY") for (const key of strings(c.keys)) { const column = columns.find((col) => col.name === key); if (column) column.nullable = false; }
    }
    // The table first, then its constraints, in the order Postgres creates them: column
    // constraints before table constraints (which decides generated names when they clash).
    const table: TableSchema = { name, columns, uniques: [], indexes: [], foreignKeys: [], checks: [] };
    this.apply({ kind: "createTable", table });
    for (const op of later) this.apply(op);
    for (const c of tableConstraints) this.apply(this.constraint(name, c, undefined, taken));
    return this.schema;
  }

  private alterTable(node: PgNode): Schema {
    if (node.objtype !== "OBJECT_TABLE") giveUp(`ALTER ${String(node.objtype).replace("OBJECT_", "")} is not folded`);
    const name = this.relation(node.relation);
    if (node.missing_ok && !this.schema.tables.some((table) => table.name === name)) return this.schema;
    for (const wrapped of node.cmds ?? []) {
      const cmd = wrapped.AlterTableCmd as PgNode;
      if (ALTER_WITHOUT_EFFECT.has(cmd.subtype)) continue;
      this.alterTableCommand(name, cmd);
    }
    return this.schema;
  }

  /**
   * ADD CONSTRAINT … UNIQUE USING INDEX (the lock-friendly way to add a unique constraint, after
   * CREATE UNIQUE INDEX CONCURRENTLY): the index becomes the constraint, taking its name.
   */
  private uniqueUsingIndex(tableName: string, c: PgNode): void {
    const index = this.table(tableName).indexes.find((candidate) => candidate.name === c.indexname);
    if (!index || !index.unique || index.where !== undefined || index.using !== undefined || !index.elements.every((element) => "column" in element && element.order === undefined)) {
      giveUp(`USING INDEX "${c.indexname}": not a plain unique index of "${tableName}"`);
    }
    const columns = index.elements.map((element) => (element as { column: string }).column);
    this.apply({ kind: "dropIndex", table: tableName, name: index.name });
    this.apply({ kind: "addUnique", table: tableName, unique: { name: c.conname ?? index.name, columns } });
  }

  private column(tableName: string, name: string): ColumnSchema {
    return this.table(tableName).columns.find((column) => column.name === name) ?? giveUp(`column "${tableName}"."${name}" is not in the schema`);
  }

  private alterTableCommand(tableName: string, cmd: PgNode): void {
    switch (cmd.subtype) {
      case "AT_AddColumn": {
        const def = cmd.def.ColumnDef as PgNode;
        if (cmd.missing_ok && this.table(tableName).columns.some((column) => column.name === def.colname)) return;
        const { column, constraints } = this.columnDef(tableName, def, new Set());
        this.apply({ kind: "addColumn", table: tableName, column });
        for (const op of constraints) this.apply(op);
        return;
      }
      case "AT_DropColumn": {
        if (cmd.missing_ok && !this.table(tableName).columns.some((column) => column.name === cmd.name)) return;
        if (cmd.behavior === "DROP_CASCADE") this.dropReferencesTo(tableName, cmd.name);
        this.apply({ kind: "dropColumn", table: tableName, name: cmd.name });
        return;
      }
      case "AT_AlterColumnType": {
        const def = cmd.def.ColumnDef as PgNode;
        const { type, serial } = this.columnType(def.typeName);
        if (serial) giveUp("serial is not a type a column can be changed to");
        // Postgres rewrites a default to the new type in ways the snapshot would have to guess.
        if (this.column(tableName, cmd.name).default !== undefined) giveUp("a type change of a column with a default is left to the database");
        this.apply({ kind: "alterColumn", table: tableName, name: cmd.name, type });
        return;
      }
      case "AT_ColumnDefault": {
        const column = this.column(tableName, cmd.name);
        const value = cmd.def ? this.defaultOf(cmd.def, column.type) : null;
        if (this.ownedBy(nextvalSequence(value), tableName, cmd.name)) {
          this.apply({ kind: "alterColumn", table: tableName, name: cmd.name, default: null, serial: true });
        } else {
          // A serial column given another default (or none) is a plain column from now on.
          this.apply({ kind: "alterColumn", table: tableName, name: cmd.name, default: value, ...(column.serial ? { serial: false } : {}) });
        }
        return;
      }
      case "AT_SetNotNull":
      case "AT_DropNotNull":
        this.column(tableName, cmd.name);
        this.apply({ kind: "alterColumn", table: tableName, name: cmd.name, nullable: cmd.subtype === "AT_DropNotNull" });
        return;
      case "AT_AddConstraint":
        if (cmd.def.Constraint.indexname && cmd.def.Constraint.contype === "CONSTR_UNIQUE") {
          this.uniqueUsingIndex(tableName, cmd.def.Constraint);
          return;
        }
        this.apply(this.constraint(tableName, cmd.def.Constraint, undefined, new Set()));
        if (cmd.def.Constraint.contype === "CONSTR_PRIMARY") {
          for (const key of strings(cmd.def.Constraint.keys)) if (this.column(tableName, key).nullable) this.apply({ kind: "alterColumn", table: tableName, name: key, nullable: false });
        }
        return;
      case "AT_DropConstraint": {
        const table = this.table(tableName);
        const exists = table.primaryKey?.name === cmd.name || [table.uniques, table.foreignKeys, table.checks].some((list) => list.some((item) => item.name === cmd.name));
        if (!exists && cmd.missing_ok) return;
        if (cmd.behavior === "DROP_CASCADE") giveUp("DROP CONSTRAINT … CASCADE may drop foreign keys elsewhere");
        this.apply({ kind: "dropConstraint", table: tableName, name: cmd.name });
        return;
      }
      case "AT_AddIdentity":
      case "AT_SetIdentity":
      case "AT_DropIdentity":
        this.setIdentity(tableName, cmd);
        return;
      case "AT_AlterConstraint": {
        const change = cmd.def.ATAlterConstraint as PgNode;
        if (change.alterEnforceability || change.alterInheritability) giveUp("ALTER CONSTRAINT other than DEFERRABLE is not folded");
        const fk = this.table(tableName).foreignKeys.find((candidate) => candidate.name === change.conname) ?? giveUp(`"${change.conname}" is not a foreign key of "${tableName}"`);
        if (!change.alterDeferrability) return;
        // The snapshot has no op for it: dropping and adding the key describes the same end state.
        const { deferrable: _old, ...key } = fk;
        this.apply({ kind: "dropConstraint", table: tableName, name: fk.name });
        this.apply({ kind: "addForeignKey", table: tableName, foreignKey: { ...key, ...deferrability(Boolean(change.deferrable), Boolean(change.initdeferred)) } });
        return;
      }
      default:
        giveUp(`ALTER TABLE ${String(cmd.subtype).replace("AT_", "")} is not folded`);
    }
  }

  /** Identity has no operation of its own: the column is edited in place. */
  private setIdentity(tableName: string, cmd: PgNode): void {
    const column = this.column(tableName, cmd.name);
    let identity: ColumnSchema["identity"];
    if (cmd.subtype === "AT_DropIdentity") {
      if (column.identity === undefined) {
        if (cmd.missing_ok) return;
        giveUp("the column has no identity");
      }
    } else if (cmd.subtype === "AT_AddIdentity") {
      identity = cmd.def.Constraint.generated_when === "a" ? "always" : "by-default";
    } else {
      const generated = (cmd.def?.List?.items ?? cmd.def ?? []).map((item: PgNode) => item.DefElem).find((d: PgNode) => d?.defname === "generated");
      if (!generated) giveUp("SET identity options other than GENERATED are not in the snapshot");
      identity = generated.arg.Integer?.ival === 97 ? "always" : "by-default"; // 'a'
    }
    const next: ColumnSchema = { ...column };
    if (identity) {
      next.identity = identity;
      next.nullable = false;
      delete next.default;
    } else delete next.identity;
    this.schema = { ...this.schema, tables: this.schema.tables.map((table) => (table.name === tableName ? { ...table, columns: table.columns.map((c) => (c.name === column.name ? next : c)) } : table)) };
  }

  private dropReferencesTo(tableName: string, column?: string): void {
    for (const table of this.schema.tables) {
      for (const fk of table.foreignKeys) {
        if (fk.refTable === tableName && table.name !== tableName && (column === undefined || fk.refColumns.includes(column))) {
          this.apply({ kind: "dropConstraint", table: table.name, name: fk.name });
        }
      }
    }
  }

  private createIndex(node: PgNode): Schema {
    const tableName = this.relation(node.relation);
    if (node.indexIncludingParams?.length) giveUp("INCLUDE columns are not in the snapshot");
    if (node.nulls_not_distinct) giveUp("NULLS NOT DISTINCT is not in the snapshot");
    const elements: IndexElement[] = [];
    const nameParts: string[] = [];
    for (const wrapped of node.indexParams ?? []) {
      const elem = wrapped.IndexElem as PgNode;
      if (elem.collation) giveUp("collations are not in the snapshot");
      if (elem.nulls_ordering && elem.nulls_ordering !== "SORTBY_NULLS_DEFAULT") giveUp("NULLS FIRST/LAST is not in the snapshot");
      const order: { order?: "desc"; opclass?: string } = elem.ordering === "SORTBY_DESC" ? { order: "desc" } : {};
      if (elem.opclass) {
        // Introspection reports only a class that is not its type's default, which only the catalog knows.
        const opclass = strings(elem.opclass).join(".");
        if (!PATTERN_OPCLASSES.has(opclass)) giveUp(`operator class ${opclass}: whether it is the type's default is for a real database to say`);
        if (elem.opclassopts?.length) giveUp("operator class options are not in the snapshot");
        order.opclass = opclass;
      }
      if (elem.name) {
        elements.push({ column: elem.name, ...order });
        nameParts.push(elem.name);
      } else {
        elements.push({ expression: this.parser.deparseExpression(elem.expr), ...order });
        // Postgres names an expression after its function; other expressions are left to it.
        nameParts.push(elem.expr.FuncCall ? strings(elem.expr.FuncCall.funcname).at(-1)! : node.idxname ? "" : giveUp("an unnamed index on an expression that is not a function call"));
      }
    }
    const name = node.idxname ?? this.generatedName([tableName, ...nameParts], "idx");
    if (node.if_not_exists && this.namesInUse().has(name)) return this.schema;
    const index: IndexSchema = { name, elements, unique: Boolean(node.unique) };
    if (node.whereClause) index.where = this.parser.deparseExpression(node.whereClause);
    if (node.accessMethod && node.accessMethod !== "btree") index.using = node.accessMethod;
    return this.apply({ kind: "createIndex", table: tableName, index });
  }

  /**
   * CREATE EXTENSION [IF NOT EXISTS] name [WITH] [SCHEMA s] [VERSION v]: in the public schema (no
   * SCHEMA: the first of the search path, public as everywhere here) it is the snapshot's; in
   * another schema it is outside the snapshot, as introspection leaves it out too.
   */
  private createExtension(node: PgNode): Schema {
    const name = node.extname as string;
    const option = (key: string) => ((node.options ?? []) as PgNode[]).find((item) => item.DefElem?.defname === key)?.DefElem;
    if (option("cascade")?.arg?.Boolean?.boolval) giveUp("CREATE EXTENSION … CASCADE also creates the extensions it requires, which the fold does not know");
    const schemaName = option("schema")?.arg?.String?.sval as string | undefined;
    if (schemaName !== undefined && schemaName !== "public") return this.schema;
    if (node.if_not_exists && (this.schema.extensions ?? []).includes(name)) return this.schema;
    return this.apply({ kind: "createExtension", name });
  }

  private drop(node: PgNode): Schema {
    if (node.removeType === "OBJECT_EXTENSION") {
      if (node.behavior === "DROP_CASCADE") giveUp("DROP EXTENSION … CASCADE drops what uses it");
      for (const object of node.objects ?? []) {
        const name = object.String?.sval as string;
        // Not the snapshot's: missing (IF EXISTS) or in another schema, which the snapshot does not describe.
        if (!(this.schema.extensions ?? []).includes(name)) {
          if (node.missing_ok) continue;
          giveUp(`extension "${name}" is not in the schema`);
        }
        this.apply({ kind: "dropExtension", name });
      }
      return this.schema;
    }
    if (DROPS_WITHOUT_EFFECT.has(node.removeType)) {
      // A sequence dropped with CASCADE takes the column defaults that use it.
      if (node.removeType === "OBJECT_SEQUENCE" && node.behavior === "DROP_CASCADE") giveUp("DROP SEQUENCE … CASCADE drops column defaults");
      return this.schema;
    }
    for (const object of node.objects ?? []) {
      const cascade = node.behavior === "DROP_CASCADE";
      switch (node.removeType) {
        case "OBJECT_TABLE": {
          const name = this.qualified(strings(object.List?.items));
          if (!this.schema.tables.some((table) => table.name === name)) {
            if (node.missing_ok) continue;
            giveUp(`table "${name}" is not in the schema`);
          }
          if (cascade) this.dropReferencesTo(name);
          this.apply({ kind: "dropTable", name });
          break;
        }
        case "OBJECT_INDEX": {
          const name = this.qualified(strings(object.List?.items));
          if (!this.schema.tables.some((table) => table.indexes.some((index) => index.name === name))) {
            if (node.missing_ok) continue;
            giveUp(`index "${name}" is not in the schema (or backs a constraint)`);
          }
          this.apply({ kind: "dropIndex", name });
          break;
        }
        case "OBJECT_TYPE": {
          const name = this.typeName(object.TypeName?.names ?? []);
          if (!this.schema.enums.some((e) => e.name === name)) {
            if (node.missing_ok) continue;
            giveUp(`type "${name}" is not an enum of the schema`);
          }
          if (cascade) giveUp("DROP TYPE … CASCADE drops columns");
          this.apply({ kind: "dropEnum", name });
          break;
        }
        default:
          giveUp(`DROP ${String(node.removeType).replace("OBJECT_", "")} is not folded`);
      }
    }
    return this.schema;
  }

  private qualified(names: string[]): string {
    if (names.length > 1 && names[0] !== "public") giveUp(`"${names.join(".")}" is outside the public schema`);
    return names[names.length - 1]!;
  }

  private rename(node: PgNode): Schema {
    switch (node.renameType) {
      case "OBJECT_TABLE":
        return this.apply({ kind: "renameTable", from: this.relation(node.relation), to: node.newname });
      case "OBJECT_COLUMN":
        if (node.relationType !== "OBJECT_TABLE") giveUp("renaming a column of something other than a table");
        return this.apply({ kind: "renameColumn", table: this.relation(node.relation), from: node.subname, to: node.newname });
      case "OBJECT_TABCONSTRAINT":
      case "OBJECT_INDEX": {
        // No operation renames these: the snapshot is edited in place, wherever the name lives.
        const from = node.renameType === "OBJECT_INDEX" ? this.relation(node.relation) : node.subname;
        const to = node.newname as string;
        if (this.namesInUse().has(to)) giveUp(`"${to}" is taken`);
        let found = false;
        const renamed = <T extends { name: string }>(item: T): T => (item.name === from ? ((found = true), { ...item, name: to }) : item);
        const tables = this.schema.tables.map((table) => {
          if (node.renameType === "OBJECT_TABCONSTRAINT" && table.name !== this.relation(node.relation)) return table;
          const next: TableSchema = { ...table, uniques: table.uniques.map(renamed), indexes: table.indexes.map(renamed), foreignKeys: table.foreignKeys.map(renamed), checks: table.checks.map(renamed) };
          if (table.primaryKey) next.primaryKey = renamed(table.primaryKey);
          return next;
        });
        if (!found) giveUp(`"${from}" is not in the schema`);
        this.schema = { ...this.schema, tables };
        return this.schema;
      }
      default:
        return giveUp(`renaming ${String(node.renameType).replace("OBJECT_", "")} is not folded`);
    }
  }

  private alterEnum(node: PgNode): Schema {
    const name = this.typeName(node.typeName);
    if (node.oldVal !== undefined) return this.apply({ kind: "renameEnumValue", enum: name, from: node.oldVal, to: node.newVal });
    const existing = this.schema.enums.find((e) => e.name === name);
    if (node.skipIfNewValExists && existing?.values.includes(node.newVal)) return this.schema;
    const position = node.newValNeighbor === undefined ? {} : node.newValIsAfter ? { after: node.newValNeighbor } : { before: node.newValNeighbor };
    return this.apply({ kind: "addEnumValue", enum: name, value: node.newVal, ...position });
  }

  private comment(node: PgNode): Schema {
    const text = node.comment as string | undefined;
    if (node.objtype === "OBJECT_TABLE") {
      const name = this.qualified(strings(node.object.List?.items));
      const table = this.table(name);
      const next: TableSchema = { ...table };
      if (text === undefined) delete next.comment;
      else next.comment = text;
      this.schema = { ...this.schema, tables: this.schema.tables.map((t) => (t.name === name ? next : t)) };
      return this.schema;
    }
    if (node.objtype === "OBJECT_COLUMN") {
      const names = strings(node.object.List?.items);
      const column = names[names.length - 1]!;
      const table = this.qualified(names.slice(0, -1));
      this.column(table, column);
      return this.apply({ kind: "alterColumn", table, name: column, comment: text ?? null });
    }
    // Comments on other objects (indexes, constraints, functions…) are not in the snapshot.
    return this.schema;
  }
}

/** The columns an expression mentions, in the order they appear. */
function columnsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) columnsIn(item, found);
  } else if (typeof node === "object" && node !== null) {
    const ref = (node as PgNode).ColumnRef;
    if (ref) found.push(strings(ref.fields).at(-1)!);
    else for (const value of Object.values(node)) columnsIn(value, found);
  }
  return found;
}
