/**
 * Raw SQL (op.execute) into lint actions, read with the real Postgres parser: each statement
 * becomes what it does to the database (create an index, add a column with a default, set a
 * timeout, open a transaction…). Statements the rules have nothing to say about give no action.
 */
import type { PgNode, PostgresParser } from "../sql/parser.js";
import type { Action, ColumnFacts } from "./types.js";

type Base = { call: number; line?: number; raw: true };
type Located = { action: Action; offset: number };

/** The characters of `text` before the statement of each action (for its line), and the actions. */
export function actionsFromSql(parser: PostgresParser, text: string, call: number): Located[] {
  let statements: PgNode[];
  try {
    statements = parser.parse(text);
  } catch (error) {
    return [{ action: { kind: "unparsed", reason: (error as Error).message, call, description: "execute", raw: true }, offset: 0 }];
  }
  const out: Located[] = longIdentifiers(text).map(({ name, offset }) => ({ action: { kind: "identifier", name, what: "identifier", call, description: "execute", raw: true }, offset }));
  for (const statement of statements) {
    const [kind] = Object.keys(statement);
    const node = statement[kind!] as PgNode;
    const base: Base = { call, raw: true };
    const offset = firstLocation(node);
    let actions: Action[];
    try {
      actions = statementActions(kind!, node, base);
    } catch {
      // A statement shape not foreseen here (the grammar is large): no rule looks at it.
      actions = [];
    }
    for (const action of actions) out.push({ action, offset });
  }
  return out;
}

function statementActions(kind: string, node: PgNode, base: Base): Action[] {
  const describe = (what: string) => ({ ...base, description: what });
  switch (kind) {
    case "CreateStmt": {
      const table = node.relation.relname as string;
      const columns: ColumnFacts[] = [];
      const names = [table];
      const keys = new Set<string>();
      const indexes: string[] = [];
      const refs = new Map<string, string>();
      for (const element of (node.tableElts ?? []) as PgNode[]) {
        if (element.ColumnDef) {
          columns.push(columnFacts(element.ColumnDef));
          names.push(element.ColumnDef.colname);
        } else if (element.Constraint) {
          const c = element.Constraint;
          if (c.conname) names.push(c.conname);
          if (c.conname && (c.contype === "CONSTR_PRIMARY" || c.contype === "CONSTR_UNIQUE")) indexes.push(c.conname);
          if (c.contype === "CONSTR_PRIMARY") for (const key of stringsOf(c.keys)) keys.add(key);
          if (c.contype === "CONSTR_FOREIGN") for (const key of stringsOf(c.fk_attrs)) refs.set(key, c.pktable?.relname);
        }
      }
      for (const column of columns) {
        if (keys.has(column.name)) column.primaryKey = true;
        if (refs.has(column.name)) column.references = refs.get(column.name)!;
      }
      return [{ ...describe(`CREATE TABLE ${table}`), kind: "createTable", table, columns, names, indexes }];
    }
    case "AlterTableStmt": {
      if (node.objtype && node.objtype !== "OBJECT_TABLE") return [];
      const table = node.relation.relname as string;
      return ((node.cmds ?? []) as PgNode[]).flatMap((cmd) => alterTableCmd(table, cmd.AlterTableCmd, base));
    }
    case "RenameStmt":
      if (node.renameType === "OBJECT_COLUMN" && node.relationType === "OBJECT_TABLE") return [{ ...describe(`RENAME COLUMN ${node.relation.relname}.${node.subname}`), kind: "renameColumn", table: node.relation.relname, from: node.subname, to: node.newname }];
      if (node.renameType === "OBJECT_TABLE") return [{ ...describe(`RENAME TABLE ${node.relation.relname}`), kind: "renameTable", from: node.relation.relname, to: node.newname }];
      return [];
    case "IndexStmt":
      return [
        {
          ...describe(`CREATE INDEX ${node.idxname ?? ""} ON ${node.relation.relname}`),
          kind: "createIndex",
          table: node.relation.relname,
          name: node.idxname ?? "",
          concurrently: node.concurrent === true,
          unique: node.unique === true,
          ifNotExists: node.if_not_exists === true,
        },
      ];
    case "DropStmt": {
      const names = ((node.objects ?? []) as PgNode[]).map(objectName);
      const ifExists = node.missing_ok === true;
      if (node.removeType === "OBJECT_INDEX") return names.map((name) => ({ ...describe(`DROP INDEX ${name}`), kind: "dropIndex" as const, name, concurrently: node.concurrent === true, ifExists }));
      if (node.removeType === "OBJECT_TABLE") return [{ ...describe(`DROP TABLE ${names.join(", ")}`), kind: "dropTable", tables: names, ifExists }];
      if (node.removeType === "OBJECT_TYPE") return names.map((name) => ({ ...describe(`DROP TYPE ${name}`), kind: "dropEnum" as const, name }));
      if (node.removeType === "OBJECT_EXTENSION") return names.map((name) => ({ ...describe(`DROP EXTENSION ${name}`), kind: "dropExtension" as const, name }));
      return [];
    }
    case "ReindexStmt": {
      const concurrently = ((node.params ?? []) as PgNode[]).some((p) => p.DefElem?.defname === "concurrently");
      const target = node.relation?.relname ?? node.name ?? "";
      const table = node.kind === "REINDEX_OBJECT_TABLE" ? target : undefined;
      return [{ ...describe(`REINDEX ${target}`), kind: "reindex", target, ...(table ? { table } : {}), concurrently }];
    }
    case "TruncateStmt": {
      const tables = ((node.relations ?? []) as PgNode[]).map((r) => r.RangeVar.relname as string);
      return [{ ...describe(`TRUNCATE ${tables.join(", ")}`), kind: "truncate", tables, cascade: node.behavior === "DROP_CASCADE" }];
    }
    case "VariableSetStmt": {
      if (node.kind !== "VAR_SET_VALUE" || typeof node.name !== "string") return [];
      const value = constantText(node.args?.[0]);
      return [{ ...describe(`SET ${node.name}`), kind: "setting", name: node.is_local ? `local:${node.name}` : node.name, ...(value === undefined ? {} : { value }) }];
    }
    case "SelectStmt": {
      // SELECT set_config('lock_timeout', '5s', false)
      const call = node.targetList?.[0]?.ResTarget?.val?.FuncCall;
      if (!call || functionName(call) !== "set_config") return [];
      const [name, value, local] = ((call.args ?? []) as PgNode[]).map(constantText);
      if (!name) return [];
      return [{ ...describe(`set_config ${name}`), kind: "setting", name: local === "true" ? `local:${name}` : name, ...(value === undefined ? {} : { value }) }];
    }
    case "TransactionStmt": {
      const statement = node.kind === "TRANS_STMT_BEGIN" || node.kind === "TRANS_STMT_START" ? "begin" : node.kind === "TRANS_STMT_COMMIT" ? "commit" : node.kind === "TRANS_STMT_ROLLBACK" ? "rollback" : undefined;
      return statement ? [{ ...describe(statement.toUpperCase()), kind: "transaction", statement }] : [];
    }
    case "CreateDomainStmt": {
      const name = stringsOf(node.domainname).join(".");
      const constrained = ((node.constraints ?? []) as PgNode[]).some((c) => c.Constraint?.contype === "CONSTR_CHECK");
      return [{ ...describe(`CREATE DOMAIN ${name}`), kind: "createDomain", name, constrained }];
    }
    case "AlterDomainStmt":
      return node.subtype === "C" ? [{ ...describe(`ALTER DOMAIN ${stringsOf(node.typeName).join(".")} ADD CONSTRAINT`), kind: "alterDomainAddConstraint", name: stringsOf(node.typeName).join(".") }] : [];
    case "CreateEnumStmt": {
      const name = stringsOf(node.typeName).at(-1)!;
      return [{ ...describe(`CREATE TYPE ${name} AS ENUM`), kind: "createEnum", name, values: stringsOf(node.vals) }];
    }
    case "AlterEnumStmt": {
      const name = stringsOf(node.typeName).at(-1)!;
      if (node.oldVal !== undefined) return [{ ...describe(`ALTER TYPE ${name} RENAME VALUE`), kind: "renameEnumValue", enum: name, from: node.oldVal, to: node.newVal }];
      return [{ ...describe(`ALTER TYPE ${name} ADD VALUE`), kind: "addEnumValue", enum: name, value: node.newVal, positioned: node.newValNeighbor !== undefined }];
    }
    case "VacuumStmt": {
      const full = ((node.options ?? []) as PgNode[]).some((o) => o.DefElem?.defname === "full");
      if (!full || node.is_vacuumcmd === false) return [];
      return ((node.rels ?? []) as PgNode[]).map((r) => ({ ...describe(`VACUUM FULL ${r.VacuumRelation.relation.relname}`), kind: "rewriteTable" as const, table: r.VacuumRelation.relation.relname as string, how: "VACUUM FULL" }));
    }
    case "ClusterStmt":
      return node.relation ? [{ ...describe(`CLUSTER ${node.relation.relname}`), kind: "rewriteTable", table: node.relation.relname, how: "CLUSTER" }] : [];
    case "DropdbStmt":
      return [{ ...describe(`DROP DATABASE ${node.dbname}`), kind: "dropDatabase", name: node.dbname }];
    case "DeleteStmt":
    case "UpdateStmt":
      return node.relation?.relname === "pg_enum" ? [{ ...describe(`${kind === "DeleteStmt" ? "DELETE FROM" : "UPDATE"} pg_enum`), kind: "deleteEnumValue" }] : [];
    default:
      return [];
  }
}

function alterTableCmd(table: string, cmd: PgNode, base: Base): Action[] {
  const at = (what: string) => ({ ...base, description: `ALTER TABLE ${table} ${what}` });
  switch (cmd.subtype) {
    case "AT_AddColumn": {
      const def = cmd.def.ColumnDef as PgNode;
      const column = columnFacts(def);
      const actions: Action[] = [{ ...at(`ADD COLUMN ${column.name}`), kind: "addColumn", table, column }];
      // Inline constraints are constraints added to an existing table like any other.
      for (const c of ((def.constraints ?? []) as PgNode[]).map((n) => n.Constraint)) {
        const constraint = constraintKind(c.contype);
        if (!constraint || constraint === "check") continue;
        actions.push({ ...at(`ADD COLUMN ${column.name} ${constraint}`), kind: "addConstraint", table, constraint, name: c.conname ?? `${table}_${column.name}_${constraint}`, notValid: false, usingIndex: false, ...(c.pktable ? { refTable: c.pktable.relname } : {}) });
      }
      return actions;
    }
    case "AT_AlterColumnType": {
      const def = cmd.def.ColumnDef as PgNode;
      const to = columnFacts({ ...def, colname: cmd.name });
      return [{ ...at(`ALTER COLUMN ${cmd.name} TYPE ${to.typeText}`), kind: "alterType", table, column: cmd.name, to, using: def.raw_default !== undefined }];
    }
    case "AT_SetNotNull":
      return [{ ...at(`ALTER COLUMN ${cmd.name} SET NOT NULL`), kind: "setNotNull", table, column: cmd.name }];
    case "AT_DropNotNull":
      return [{ ...at(`ALTER COLUMN ${cmd.name} DROP NOT NULL`), kind: "dropNotNull", table, column: cmd.name }];
    case "AT_AddConstraint": {
      const c = cmd.def.Constraint as PgNode;
      const constraint = constraintKind(c.contype);
      if (!constraint) return [];
      const notNullColumn = constraint === "check" ? notNullTest(c.raw_expr) : undefined;
      return [
        {
          ...at(`ADD CONSTRAINT ${c.conname ?? constraint}`),
          kind: "addConstraint",
          table,
          constraint,
          name: c.conname ?? "",
          notValid: c.skip_validation === true,
          usingIndex: typeof c.indexname === "string",
          ...(c.pktable ? { refTable: c.pktable.relname } : {}),
          ...(notNullColumn ? { notNullColumn } : {}),
        },
      ];
    }
    case "AT_ValidateConstraint":
      return [{ ...at(`VALIDATE CONSTRAINT ${cmd.name}`), kind: "validateConstraint", table, name: cmd.name }];
    case "AT_DropColumn":
      return [{ ...at(`DROP COLUMN ${cmd.name}`), kind: "dropColumn", table, column: cmd.name, ifExists: cmd.missing_ok === true }];
    case "AT_DropConstraint":
    case "AT_ColumnDefault":
    case "AT_AlterConstraint":
      return [{ ...at(cmd.subtype.slice(3)), kind: "catalogChange", table }];
    default:
      return [];
  }
}

function constraintKind(contype: string): "foreign-key" | "check" | "unique" | "primary-key" | "exclusion" | undefined {
  switch (contype) {
    case "CONSTR_FOREIGN":
      return "foreign-key";
    case "CONSTR_CHECK":
      return "check";
    case "CONSTR_UNIQUE":
      return "unique";
    case "CONSTR_PRIMARY":
      return "primary-key";
    case "CONSTR_EXCLUSION":
      return "exclusion";
    default:
      return undefined;
  }
}

/** `col IS NOT NULL` → "col". */
function notNullTest(expr: PgNode | undefined): string | undefined {
  const test = expr?.NullTest;
  if (!test || test.nulltesttype !== "IS_NOT_NULL") return undefined;
  const fields = stringsOf(test.arg?.ColumnRef?.fields);
  return fields.length === 1 ? fields[0] : undefined;
}

/** The facts of a SQL column definition. */
function columnFacts(def: PgNode): ColumnFacts {
  const type = typeFacts(def.typeName);
  const constraints = ((def.constraints ?? []) as PgNode[]).map((n) => n.Constraint as PgNode);
  const column: ColumnFacts = { name: def.colname, ...type, notNull: false, hasDefault: false };
  for (const c of constraints) {
    switch (c.contype) {
      case "CONSTR_NOTNULL":
        column.notNull = true;
        break;
      case "CONSTR_DEFAULT": {
        column.hasDefault = true;
        const volatile = volatileFunction(c.raw_expr);
        if (volatile) column.volatileDefault = volatile;
        break;
      }
      case "CONSTR_IDENTITY":
        column.identity = true;
        break;
      case "CONSTR_GENERATED":
        if (c.generated_kind === "s" || c.generated_kind === undefined) column.generatedStored = true;
        break;
      case "CONSTR_PRIMARY":
        column.primaryKey = true;
        column.notNull = true;
        break;
      case "CONSTR_UNIQUE":
        column.unique = true;
        break;
      case "CONSTR_FOREIGN":
        column.references = c.pktable?.relname;
        break;
    }
  }
  if (column.serial) column.hasDefault = true;
  return column;
}

const SERIALS: Record<string, string> = { serial: "int4", serial4: "int4", bigserial: "int8", serial8: "int8", smallserial: "int2", serial2: "int2" };
const ALIASES: Record<string, string> = { int: "int4", integer: "int4", smallint: "int2", bigint: "int8", character: "bpchar", char: "bpchar", "character varying": "varchar", "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz" };

function typeFacts(typeName: PgNode | undefined): Pick<ColumnFacts, "type" | "typeText" | "length" | "scale" | "serial"> {
  const names = stringsOf(typeName?.names);
  const last = (names.at(-1) ?? "unknown").toLowerCase();
  const mods = ((typeName?.typmods ?? []) as PgNode[]).map((m) => m.A_Const?.ival?.ival as number | undefined);
  const array = Array.isArray(typeName?.arrayBounds) && typeName.arrayBounds.length > 0;
  const serial = SERIALS[last];
  const type = serial ?? ALIASES[last] ?? last;
  const text = `${last}${mods.length && mods[0] !== undefined ? `(${mods.join(",")})` : ""}${array ? "[]" : ""}`;
  return {
    type: array ? `_${type}` : type,
    typeText: text,
    ...(mods[0] !== undefined ? { length: mods[0] } : {}),
    ...(mods[1] !== undefined ? { scale: mods[1] } : {}),
    ...(serial ? { serial: true } : {}),
  };
}

/**
 * Functions known not to be volatile (stable or immutable), as defaults use them. A default
 * calling anything else is treated as volatile: Postgres would compute it row by row.
 */
const NOT_VOLATILE = new Set([
  "now", "statement_timestamp", "transaction_timestamp", "current_setting", "lower", "upper", "length", "char_length", "concat", "concat_ws",
  "md5", "to_char", "to_timestamp", "to_date", "date_trunc", "make_interval", "make_date", "jsonb_build_object", "jsonb_build_array",
  "json_build_object", "json_build_array", "to_jsonb", "to_json", "array_length", "abs", "round", "floor", "ceil", "btrim", "ltrim",
  "rtrim", "replace", "left", "right", "substring", "substr", "timezone", "interval", "int4", "int8", "numeric", "text", "format",
]);

/** The first function in `expr` not known to be stable, by name; undefined when there is none. */
export function volatileFunction(expr: PgNode | undefined): string | undefined {
  let found: string | undefined;
  const visit = (node: unknown): void => {
    if (found || node === null || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(visit);
    const record = node as PgNode;
    if (record.FuncCall) {
      const name = functionName(record.FuncCall);
      if (!NOT_VOLATILE.has(name)) {
        found = `${name}()`;
        return;
      }
    }
    for (const value of Object.values(record)) visit(value);
  };
  visit(expr);
  return found;
}

function functionName(call: PgNode): string {
  return (stringsOf(call.funcname).at(-1) ?? "").toLowerCase();
}

function stringsOf(list: unknown): string[] {
  return Array.isArray(list) ? list.map((item: PgNode) => item.String?.sval as string).filter((s) => typeof s === "string") : [];
}

function objectName(object: PgNode): string {
  if (object.List) return stringsOf(object.List.items).join(".");
  if (object.TypeName) return stringsOf(object.TypeName.names).join(".");
  if (object.String) return object.String.sval;
  return "";
}

function constantText(node: PgNode | undefined): string | undefined {
  const c = node?.A_Const ?? node?.TypeCast?.arg?.A_Const;
  if (!c) return undefined;
  if (c.sval) return c.sval.sval;
  if (c.ival) return String(c.ival.ival ?? 0);
  if (c.boolval) return String(c.boolval.boolval === true);
  return undefined;
}

/**
 * Identifiers over 63 bytes in SQL text. The parser itself cuts them to 63 bytes (as the server
 * does), so they are looked for in the text: words and "quoted names" outside strings and comments.
 */
function longIdentifiers(text: string): Array<{ name: string; offset: number }> {
  const found: Array<{ name: string; offset: number }> = [];
  const token = /'(?:[^']|'')*'|\$([A-Za-z_]*)\$[\s\S]*?\$\1\$|--[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"]|"")+)"|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)/g;
  for (const match of text.matchAll(token)) {
    const name = match[2]?.replace(/""/g, '"') ?? match[3];
    if (name !== undefined && Buffer.byteLength(name, "utf8") > 63) found.push({ name, offset: match.index });
  }
  return found;
}

/** The smallest `location` in a statement: where it starts in the SQL text, near enough for a line number. */
function firstLocation(node: unknown): number {
  let min = Number.POSITIVE_INFINITY;
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) return value.forEach(visit);
    for (const [key, child] of Object.entries(value)) {
      if (key === "location" && typeof child === "number" && child >= 0 && child < min) min = child;
      else visit(child);
    }
  };
  visit(node);
  return Number.isFinite(min) ? min : 0;
}
