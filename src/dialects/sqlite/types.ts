/**
 * How each logical column type is declared on SQLite, and the reverse reading of a declared type.
 * The storage table itself (what is stored, what enforces it) is documented at the top of ddl.ts.
 *
 * Declared types are chosen for their affinity as much as for readability: SQLite derives a
 * column's affinity from substrings of the declared name ("INT" → INTEGER, "CHAR"/"TEXT" → TEXT,
 * "REAL"/"DOUB" → REAL, none → NUMERIC). So JSON and exact decimals use names containing "TEXT";
 * a bare "JSONB" or "NUMERIC" would have NUMERIC affinity and turn the text '123' into 123.
 */
import { RetortError } from "../../errors.js";
import { constraintName } from "../../schema/naming.js";
import { typeModifier, type ArrayElementKind, type ArrayElementType, type ColumnSchema, type ColumnType, type Schema, type TableSchema } from "../../schema/snapshot.js";
import { quoteIdent, quoteLiteral } from "../sql-text.js";

export function sqliteDeclaredType(type: ColumnType): string {
  switch (type.kind) {
    case "uuid":
      return "UUID";
    case "text":
    case "enum":
      return "TEXT";
    case "varchar":
      return type.length === undefined ? "VARCHAR" : `VARCHAR(${type.length})`;
    case "smallint":
      return "SMALLINT";
    case "integer":
      return "INTEGER";
    case "bigint":
      return "BIGINT";
    case "numeric":
      return `NUMERIC_TEXT${typeModifier(type)}`;
    case "real":
      return "REAL";
    case "double":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    // Without the precision: every time is stored as text, and the model's precision rounds values on the way in.
    case "timestamptz":
      return "TIMESTAMPTZ";
    case "timestamp":
      return "TIMESTAMP";
    case "date":
      return "DATE";
    case "time":
      return "TIME";
    case "jsonb":
      return "JSONB_TEXT";
    case "json":
      return "JSON_TEXT";
    case "bytea":
      return "BLOB";
    // Not "INET": a declared type without TEXT in it would give the column NUMERIC affinity.
    case "inet":
      return "INET_TEXT";
    case "array": {
      if (type.element.kind === "text") return "TEXT_ARRAY";
      const element = type.element;
      const tag = Object.keys(ARRAY_TAGS).find((key) => ARRAY_TAGS[key] === element.kind)!;
      return `TEXT_ARRAY_${tag}${typeModifier(element)}`;
    }
  }
}

/**
 * The element part of an array's declared type (TEXT_ARRAY_I32, TEXT_ARRAY_VARCHAR(20)). The
 * integer tags avoid "INT", which would give the column INTEGER affinity instead of TEXT's.
 */
const ARRAY_TAGS: Record<string, ArrayElementKind> = {
  VARCHAR: "varchar",
  I16: "smallint",
  I32: "integer",
  I64: "bigint",
  UUID: "uuid",
  BOOLEAN: "boolean",
  REAL: "real",
  DOUBLE: "double",
  NUMERIC: "numeric",
  DATE: "date",
};

const SIMPLE_DECLARED: Record<string, ColumnType> = {
  UUID: { kind: "uuid" },
  TEXT: { kind: "text" },
  SMALLINT: { kind: "smallint" },
  INTEGER: { kind: "integer" },
  BIGINT: { kind: "bigint" },
  REAL: { kind: "real" },
  DOUBLE: { kind: "double" },
  BOOLEAN: { kind: "boolean" },
  TIMESTAMPTZ: { kind: "timestamptz" },
  TIMESTAMP: { kind: "timestamp" },
  DATE: { kind: "date" },
  TIME: { kind: "time" },
  JSONB_TEXT: { kind: "jsonb" },
  JSON_TEXT: { kind: "json" },
  BLOB: { kind: "bytea" },
  INET_TEXT: { kind: "inet" },
  TEXT_ARRAY: { kind: "array", element: { kind: "text" } },
};

/**
 * The logical type behind a declared type written by `sqliteDeclaredType`, or undefined for
 * declared types Retort did not write. Enums read back as text (their values live in a CHECK).
 */
export function columnTypeFromDeclared(declared: string): ColumnType | undefined {
  const upper = declared.trim().toUpperCase();
  const simple = SIMPLE_DECLARED[upper];
  if (simple) return simple;
  const varchar = /^VARCHAR(?:\s*\(\s*(\d+)\s*\))?$/.exec(upper);
  if (varchar) return varchar[1] === undefined ? { kind: "varchar" } : { kind: "varchar", length: Number(varchar[1]) };
  const numeric = /^NUMERIC_TEXT(?:\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(upper);
  if (numeric) return withModifiers({ kind: "numeric" }, numeric[1], numeric[2]);
  const array = /^TEXT_ARRAY_([A-Z0-9]+)(?:\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(upper);
  const kind = array ? ARRAY_TAGS[array[1]!] : undefined;
  if (array && kind !== undefined) {
    const element = withModifiers({ kind } as ArrayElementType, array[2], array[3]);
    // Only varchar and numeric elements take modifiers.
    return (array[2] === undefined || kind === "varchar" || kind === "numeric") && (array[3] === undefined || kind === "numeric") ? { kind: "array", element } : undefined;
  }
  return undefined;
}

/** varchar's length, numeric's precision and scale, from a declared type's `(a[, b])`. */
function withModifiers<T extends ColumnType>(type: T, first: string | undefined, second: string | undefined): T {
  if (first === undefined) return type;
  if (type.kind === "varchar") return { ...type, length: Number(first) };
  return { ...type, precision: Number(first), ...(second === undefined ? {} : { scale: Number(second) }) };
}

/** What a synthetic column check enforces; also the suffix of its name. */
export type ColumnCheckKind = "varchar" | "boolean" | "enum" | "json";

export interface ColumnCheck {
  kind: ColumnCheckKind;
  name: string;
  expression: string;
}

/** Which synthetic check a column type needs on SQLite, if any. */
export function columnCheckKind(type: ColumnType): ColumnCheckKind | undefined {
  switch (type.kind) {
    case "varchar":
      return type.length === undefined ? undefined : "varchar";
    case "boolean":
      return "boolean";
    case "enum":
      return "enum";
    case "json":
    case "jsonb":
    case "array":
      return "json";
    default:
      return undefined;
  }
}

/**
 * Named `ck_<table>_<column>_<kind>` so a violation can say which column and rule failed; the
 * type-name suffix keeps clear of checks users name after their purpose ("nickname_length").
 */
export function columnCheckName(table: string, column: string, kind: ColumnCheckKind): string {
  return constraintName.check(table, `${column}_${kind}`);
}

/**
 * The CHECK that stands in for a Postgres type rule on SQLite: varchar length, boolean 0/1,
 * enum membership, valid JSON.
 */
export function columnCheck(table: TableSchema, column: ColumnSchema, schema: Schema): ColumnCheck | undefined {
  const kind = columnCheckKind(column.type);
  if (kind === undefined) return undefined;
  const col = quoteIdent(column.name);
  const type = column.type;
  let expression: string;
  if (type.kind === "varchar") expression = `length(${col}) <= ${type.length}`;
  else if (type.kind === "boolean") expression = `${col} IN (0, 1)`;
  else if (type.kind === "enum") expression = `${col} IN (${enumValues(schema, type.name, table, column).map(quoteLiteral).join(", ")})`;
  else expression = `json_valid(${col})`;
  return { kind, name: columnCheckName(table.name, column.name, kind), expression };
}

export function enumValues(schema: Schema, name: string, table: TableSchema, column: ColumnSchema): string[] {
  const found = schema.enums.find((candidate) => candidate.name === name);
  if (!found) {
    throw new RetortError("RETORT_INVALID_MODEL", `column "${table.name}"."${column.name}" uses enum "${name}", which the schema does not define`, {
      hint: "Add the enum to the schema (define it with enumType() and include it among the models).",
    });
  }
  return found.values;
}
