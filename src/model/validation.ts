/**
 * Runtime validation derived from the models (zod 4): insert, update and row schemas enforcing
 * types, lengths, integer ranges, enum membership and NOT NULL. Controllers run them before any
 * SQL and report every field error at once.
 */
import { z } from "zod";
import { RetortError } from "../errors.js";
import { canonicalInet } from "./inet.js";
import type { ColumnConfig } from "./column.js";
import type { AnyTable } from "./table.js";
import type { Insert, Row, Update } from "./types.js";

const INT16 = 2 ** 15;
const INT32 = 2 ** 31;
const INT64 = 2n ** 63n;

function isJsonValue(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isJsonValue(value[i])) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  // for…in without allocating key arrays: this runs for every JSON value of a bulk load.
  for (const key in value) if (!isJsonValue((value as Record<string, unknown>)[key])) return false;
  return true;
}

/** Postgres text cannot hold NUL; reject it everywhere so all backends agree. */
const text = () => z.string().refine((s) => !s.includes("\u0000"), "must not contain the NUL character (\\u0000)");

function numericSchema(precision?: number, scale?: number) {
  return z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string such as "-12.50"')
    .superRefine((value, ctx) => {
      if (precision === undefined) return;
      const [whole = "", fraction = ""] = value.replace("-", "").split(".");
      const s = scale ?? 0;
      if (fraction.length > s) ctx.addIssue({ code: "custom", message: `has ${fraction.length} decimal places; numeric(${precision},${s}) keeps ${s}` });
      if (whole.replace(/^0+/, "").length > precision - s) ctx.addIssue({ code: "custom", message: `is too large for numeric(${precision},${s})` });
    });
}

/** The zod schema for one column's non-null value. */
export function columnValueSchema(config: ColumnConfig): z.ZodType {
  const type = config.type;
  switch (type.kind) {
    case "uuid":
      return z.guid("must be a UUID");
    case "inet":
      return z.string().refine((s) => canonicalInet(s) !== undefined, 'must be an IPv4 or IPv6 address, optionally with a netmask length ("10.0.0.0/8")');
    case "text":
      return text();
    case "varchar":
      return type.length === undefined ? text() : text().max(type.length, `must be at most ${type.length} characters`);
    case "smallint":
      return z.number().int().min(-INT16).max(INT16 - 1);
    case "integer":
      return z.number().int().min(-INT32).max(INT32 - 1);
    case "bigint":
      return z.bigint().min(-INT64).max(INT64 - 1n);
    case "numeric":
      return numericSchema(type.precision, type.scale);
    case "real":
    case "double":
      return z.number();
    case "boolean":
      return z.boolean();
    case "timestamptz":
    case "timestamp":
      return z.date();
    case "date":
      return z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date "YYYY-MM-DD"').refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), "is not a real date");
    case "time":
      return z.string().regex(/^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/, 'must be a time "HH:MM[:SS[.ffffff]]"');
    case "jsonb":
    case "json":
      return z.custom((value) => value !== undefined && isJsonValue(value), "must be JSON: plain objects, arrays, strings, finite numbers, booleans or null");
    case "bytea":
      return z.instanceof(Uint8Array, { message: "must be a Uint8Array (or Buffer)" });
    case "enum": {
      const values = (config.enumValues ?? []) as [string, ...string[]];
      return z.enum(values, `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`);
    }
    case "array": {
      // Each element as a column of the element type; zod's issue path carries the element index.
      const element = columnValueSchema({ ...config, type: type.element, enumValues: undefined });
      return z.array(config.elementNullable ? element.nullable() : element);
    }
  }
}

/**
 * Why a column's literal server-side default does not fit the column, or undefined. The literal
 * is in the snapshot's JSON form (bigint as digits, Date as ISO text, bytes as hex); it is turned
 * back into the TypeScript value and checked like an inserted value.
 */
export function defaultProblem(config: ColumnConfig): string | undefined {
  const value = config.default?.kind === "literal" ? config.default.value : null;
  // A NULL default is what a column has anyway; enum columns of migrations carry no labels.
  if (value === null || (config.type.kind === "enum" && !config.enumValues?.length)) return undefined;
  const result = columnValueSchema(config).safeParse(fromLiteral(config, value));
  // An array's issues carry the element index: "element 1: Too big…".
  return result.success ? undefined : result.error.issues.map((issue) => (issue.path.length > 0 ? `element ${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
}

function fromLiteral(config: ColumnConfig, value: unknown): unknown {
  switch (config.type.kind) {
    case "array": {
      const element = { ...config, type: config.type.element };
      return Array.isArray(value) ? value.map((item) => fromLiteral(element, item)) : value;
    }
    case "bigint":
      try {
        return typeof value === "string" || typeof value === "number" ? BigInt(value) : value;
      } catch {
        return value;
      }
    case "numeric":
      return typeof value === "number" && Number.isFinite(value) ? String(value) : value;
    case "timestamptz":
    case "timestamp":
      return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? new Date(value) : value;
    case "bytea":
      return typeof value === "string" && /^([0-9a-f]{2})*$/i.test(value) ? Buffer.from(value, "hex") : value;
    default:
      return value;
  }
}

export type ValidationMode = "insert" | "update" | "row";
type Mode = ValidationMode;
const cache = new WeakMap<AnyTable, Partial<Record<Mode, z.ZodType>>>();

function build(model: AnyTable, mode: Mode): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, col] of Object.entries(model.$.columns as Record<string, { config: ColumnConfig }>)) {
    const config = col.config;
    let schema = columnValueSchema(config);
    if (config.nullable) schema = schema.nullable();
    const hasDefault = config.default !== undefined || config.defaultFn !== undefined || config.identity !== undefined || config.serial === true;
    if (mode === "update" || (mode === "insert" && (hasDefault || config.nullable))) schema = schema.optional();
    shape[key] = schema;
  }
  return z.strictObject(shape);
}

/**
 * A valid value is the common case, and zod spends most of a single insert's validation on
 * building its result. Each model and mode gets a plain check that answers "valid" only where zod
 * would accept the value too (the same tests, or the column's own zod schema for the kinds with
 * patterns: uuid, numeric, date, time; an array's elements each by its element's check); anything it is unsure of (a missing or unknown
 * key, a non-plain object, a failing field) goes to zod, which finds and words every problem.
 */
type FieldCheck = { key: string; optional: boolean; nullable: boolean; accepts: (value: unknown) => boolean };
type ObjectCheck = { fields: FieldCheck[]; known: Set<string> };
const checks = new WeakMap<AnyTable, Partial<Record<Mode, ObjectCheck>>>();

function accepts(config: ColumnConfig): (value: unknown) => boolean {
  const type = config.type;
  const isText = (v: unknown): v is string => typeof v === "string" && !v.includes("\u0000");
  const whole = (min: number, max: number) => (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
  switch (type.kind) {
    case "text":
      return isText;
    case "inet":
      return (v) => typeof v === "string" && canonicalInet(v) !== undefined;
    case "varchar":
      return type.length === undefined ? isText : (v) => isText(v) && v.length <= type.length!;
    case "smallint":
      return whole(-INT16, INT16 - 1);
    case "integer":
      return whole(-INT32, INT32 - 1);
    case "bigint":
      return (v) => typeof v === "bigint" && v >= -INT64 && v < INT64;
    case "real":
    case "double":
      return (v) => typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return (v) => typeof v === "boolean";
    case "timestamptz":
    case "timestamp":
      return (v) => v instanceof Date && !Number.isNaN(v.getTime());
    case "jsonb":
    case "json":
      return (v) => v !== undefined && isJsonValue(v);
    case "bytea":
      return (v) => v instanceof Uint8Array;
    case "enum": {
      const labels = new Set<unknown>(config.enumValues ?? []);
      return (v) => labels.has(v);
    }
    case "array": {
      const element = accepts({ ...config, type: type.element, enumValues: undefined });
      const nullable = config.elementNullable === true;
      return (v) => {
        if (!Array.isArray(v)) return false;
        // Indexed, not every(): a hole in a sparse array is undefined, which zod refuses.
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          if (item === null ? !nullable : item === undefined || !element(item)) return false;
        }
        return true;
      };
    }
    default: {
      const schema = columnValueSchema(config);
      return (v) => schema.safeParse(v).success;
    }
  }
}

function buildCheck(model: AnyTable, mode: Mode): ObjectCheck {
  const fields: FieldCheck[] = [];
  for (const [key, col] of Object.entries(model.$.columns as Record<string, { config: ColumnConfig }>)) {
    const config = col.config;
    const hasDefault = config.default !== undefined || config.defaultFn !== undefined || config.identity !== undefined || config.serial === true;
    fields.push({ key, nullable: config.nullable, optional: mode === "update" || (mode === "insert" && (hasDefault || config.nullable)), accepts: accepts(config) });
  }
  return { fields, known: new Set(fields.map((field) => field.key)) };
}

/** True only when zod would accept `value` as well (see above); false means "ask zod". */
function surelyValid(model: AnyTable, mode: Mode, value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  let entry = checks.get(model);
  if (!entry) checks.set(model, (entry = {}));
  const check = (entry[mode] ??= buildCheck(model, mode));
  for (const key in value) if (!check.known.has(key)) return false;
  const record = value as Record<string, unknown>;
  for (const field of check.fields) {
    const v = record[field.key];
    if (v === undefined ? !field.optional : v === null ? !field.nullable : !field.accepts(v)) return false;
  }
  return true;
}

function schemaFor(model: AnyTable, mode: Mode): z.ZodType {
  let entry = cache.get(model);
  if (!entry) cache.set(model, (entry = {}));
  return (entry[mode] ??= build(model, mode));
}

/** Zod schemas for a model: `schemas(members).insert.parse(input)`. */
export function schemas<T extends AnyTable>(model: T): { insert: z.ZodType<Insert<T>>; update: z.ZodType<Update<T>>; row: z.ZodType<Row<T>> } {
  return {
    insert: schemaFor(model, "insert") as z.ZodType<Insert<T>>,
    update: schemaFor(model, "update") as z.ZodType<Update<T>>,
    row: schemaFor(model, "row") as z.ZodType<Row<T>>,
  };
}

export interface FieldIssue {
  /** Row index for batch input, then the field key. */
  path: (string | number)[];
  message: string;
}

const NO_ISSUES: FieldIssue[] = Object.freeze([]) as unknown as FieldIssue[];

/** The problems with one value; `row` (a batch index) is put before each path. */
export function validationIssues(model: AnyTable, mode: Mode, value: unknown, row?: number): FieldIssue[] {
  if (surelyValid(model, mode, value)) return NO_ISSUES;
  const result = schemaFor(model, mode).safeParse(value);
  if (result.success) return NO_ISSUES;
  const issues: FieldIssue[] = [];
  for (const issue of result.error.issues) {
    const path = [...(row === undefined ? [] : [row]), ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) issues.push({ path: [...path, key], message: `is not a column of ${model.$.name}` });
    } else {
      issues.push({ path, message: issue.message });
    }
  }
  return issues;
}

/** One RETORT_VALIDATION error listing every problem. */
export function validationError(model: AnyTable, mode: Mode, issues: FieldIssue[]): RetortError {
  const lines = issues.map((issue) => `  ${issue.path.join(".") || "(value)"}: ${issue.message}`);
  return new RetortError("RETORT_VALIDATION", `Invalid ${mode} for "${model.$.name}" (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`, {
    hint: "Fix the listed fields; nothing was written.",
    details: { table: model.$.name, issues },
  });
}

/**
 * Validate one value or a batch; throws one RETORT_VALIDATION error listing every problem
 * (row index and field for batches).
 */
export function validate(model: AnyTable, mode: Mode, input: unknown): void {
  const issues =
    Array.isArray(input) && mode !== "update"
      ? input.flatMap((value, i) => validationIssues(model, mode, value, i))
      : validationIssues(model, mode, input);
  if (issues.length > 0) throw validationError(model, mode, issues);
}
