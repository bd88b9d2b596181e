/**
 * Postgres column defaults, as `pg_get_expr(adbin, adrelid, true)` prints them, → snapshot
 * DefaultValue. The point is that a default written by a model reads back as the same value:
 *
 *   now()                                                   → { kind: "now" }
 *   gen_random_uuid()                                       → { kind: "random-uuid" }
 *   0, '-1'::integer, 1.5                                   → number (smallint, integer, real, double)
 *   5, '9007199254740993'::bigint, 0.00, '-1.5'::numeric    → decimal string (bigint, numeric)
 *   'x'::text, 'member'::guild_role, '…'::uuid, '…'::date   → string (text, varchar, enum, uuid, date, time)
 *   '2024-01-01 00:00:00+00'::timestamp with time zone      → ISO string "2024-01-01T00:00:00.000Z"
 *   '2024-01-01 00:00:00'::timestamp without time zone      → ISO string read as UTC
 *   true / false                                            → boolean
 *   '{"a": 1}'::jsonb                                       → parsed JSON
 *   '\x01ff'::bytea                                         → "01ff" (hex, no prefix)
 *   '{}'::text[], '{1,2}'::integer[], '{a,"b c"}'::character varying[],
 *   ARRAY['a'::text], ARRAY[1, 2], ARRAY[(1)::bigint]       → an array of the element's values
 *                                                             (NULL elements, nested arrays: sql)
 *
 * Anything else (serial's nextval(...), expressions, a literal in a form we do not recognise)
 * stays { kind: "sql" } with the database's text: never a guess. Other spellings of the same
 * default (CURRENT_TIMESTAMP, transaction_timestamp(), uuidv4()) stay { kind: "sql" } too, so a
 * pulled model writes exactly what the database has; the differ still finds them equal to
 * { kind: "now" } / { kind: "random-uuid" } (normalizeDefault).
 */
import type { ArrayElementType, ColumnType, DefaultValue, JsonValue } from "../../schema/snapshot.js";
import { parseArrayText } from "./codecs.js";

const NOW = new Set(["now()"]);
const RANDOM_UUID = new Set(["gen_random_uuid()"]);

/** A type name after `::` (`text`, `"Mood"`, `public.mood`, `timestamp with time zone`, `text[]`). */
const CAST = String.raw`::(?:[\w .\[\]]|"(?:[^"]|"")*"|\(\d+(?:, ?\d+)?\))+`;
/** A number, bare (`0`, `1.5`) or quoted with a cast (`'-1'::integer`, `'1e+20'::double precision`). */
const NUMBER = new RegExp(String.raw`^(?:(-?\d+(?:\.\d+)?)|'(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'${CAST})$`);
/** One string literal, optionally with one cast. */
const STRING = new RegExp(String.raw`^(E?)'((?:[^']|'')*)'(?:${CAST})?$`, "s");
const NULL = new RegExp(String.raw`^NULL(?:${CAST})?$`);

export function decodeDefault(sql: string, type: ColumnType): DefaultValue {
  const text = sql.trim();
  if (NOW.has(text)) return { kind: "now" };
  if (RANDOM_UUID.has(text)) return { kind: "random-uuid" };
  if (NULL.test(text)) return { kind: "literal", value: null };
  const value = decodeLiteral(text, type);
  return value === undefined ? { kind: "sql", sql: text } : { kind: "literal", value };
}

/** The literal's value in snapshot terms, or undefined when `text` is not a plain constant of this type. */
function decodeLiteral(text: string, type: ColumnType): JsonValue | undefined {
  switch (type.kind) {
    case "smallint":
    case "integer":
    case "real":
    case "double": {
      const number = numberText(text);
      if (number === undefined) return undefined;
      const value = Number(number);
      return Number.isFinite(value) ? value : undefined;
    }
    case "bigint":
    case "numeric":
      return numberText(text);
    case "boolean":
      return text === "true" ? true : text === "false" ? false : undefined;
    case "text":
    case "varchar":
    case "enum":
    case "uuid":
    case "date":
    case "time":
    case "inet":
      return stringLiteral(text);
    case "timestamptz":
    case "timestamp": {
      const literal = stringLiteral(text);
      return literal === undefined ? undefined : isoTimestamp(literal, type.kind === "timestamptz");
    }
    case "json":
    case "jsonb": {
      const literal = stringLiteral(text);
      if (literal === undefined) return undefined;
      try {
        return JSON.parse(literal) as JsonValue;
      } catch {
        return undefined;
      }
    }
    case "bytea": {
      const literal = stringLiteral(text);
      const hex = literal === undefined ? null : /^\\x((?:[0-9a-fA-F]{2})*)$/.exec(literal);
      return hex ? hex[1]!.toLowerCase() : undefined;
    }
    case "array": {
      const literal = stringLiteral(text);
      return literal === undefined ? arrayConstructor(text, type.element) : arrayLiteral(literal, type.element);
    }
  }
}

function numberText(text: string): string | undefined {
  const match = NUMBER.exec(text);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** The value of `'…'` or `'…'::type` (E'…' too, as printed with standard_conforming_strings off). */
function stringLiteral(text: string): string | undefined {
  const match = STRING.exec(text);
  if (!match) return undefined;
  const body = match[2]!.replaceAll("''", "'");
  return match[1] ? body.replaceAll("\\\\", "\\") : body;
}

/**
 * A timestamp printed with DateStyle ISO → an ISO-8601 UTC string as models write them
 * (`Date.prototype.toISOString()`, so milliseconds always; microseconds when present).
 * `timestamp` values carry no zone and are read as UTC, as the value codecs do.
 */
function isoTimestamp(text: string, withZone: boolean): string | undefined {
  const match = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?$/.exec(text);
  if (!match || (match[8] !== undefined) !== withZone) return undefined;
  const [, year, month, day, hour, minute, second, fraction = "", sign, offH = "0", offM = "0", offS = "0"] = match;
  if (Number(year) < 1000) return undefined;
  const micros = fraction.padEnd(6, "0");
  const offsetMs = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * ((Number(offH) * 60 + Number(offM)) * 60 + Number(offS)) * 1000;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), Number(micros.slice(0, 3))) - offsetMs;
  const date = new Date(ms);
  if (Number.isNaN(ms) || date.getUTCFullYear() > 9999) return undefined;
  const iso = date.toISOString();
  return micros.slice(3) === "000" ? iso : `${iso.slice(0, -1)}${micros.slice(3)}Z`;
}

/**
 * `ARRAY[1, 2]`, `ARRAY['a'::text, 'b'::text]`, `ARRAY[(1)::bigint, ('-2'::integer)::smallint]`
 * (optionally cast to the array type) → the elements' values; undefined for anything else.
 */
function arrayConstructor(text: string, element: ArrayElementType): JsonValue[] | undefined {
  // The cast to the array type may follow, the constructor parenthesised or not: (ARRAY['x'])::date[].
  const match = /^(?:ARRAY\[(.*)\]|\(ARRAY\[(.*)\]\))$/s.exec(text.replace(/\]\)?::[\w .()",]+\[\]$/, (end) => end.slice(0, end.indexOf("::"))));
  if (!match) return undefined;
  const items = splitTopLevel((match[1] ?? match[2])!);
  if (items === undefined) return undefined;
  const values: JsonValue[] = [];
  for (let item of items) {
    // Postgres casts coerced constants, with or without parentheses: (1)::bigint, '-2'::integer::smallint.
    for (;;) {
      const wrapped = /^\((.*)\)$/s.exec(item);
      const cast = /^(.*?)(?:::[\w ."]+(?:\(\d+(?:, ?\d+)?\))?)$/s.exec(item);
      if (wrapped && splitTopLevel(wrapped[1]!)?.length === 1) item = wrapped[1]!.trim();
      else if (cast && cast[1] !== "" && (cast[1]!.match(/'/g)?.length ?? 0) % 2 === 0) item = cast[1]!.trim();
      else break;
    }
    const text = item.startsWith("'") || item.startsWith("E'") ? stringLiteral(item) : /^(-?\d+(?:\.\d+)?|true|false)$/.test(item) ? item : undefined;
    const value = text === undefined ? undefined : elementValue(text, element);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

/** The comma-separated items of `body`, commas inside quotes and parentheses kept; undefined if unbalanced. */
function splitTopLevel(body: string): string[] | undefined {
  if (body.trim() === "") return [];
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char === "'") {
      // '' inside a literal is an escaped quote: skipping to the next ' twice covers it.
      i = body.indexOf("'", i + 1);
      if (i < 0) return undefined;
    } else if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === "," && depth === 0) {
      items.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  items.push(body.slice(start).trim());
  return items;
}

/** A one-dimensional array literal (`{a,"b c"}`, `{1,2}`) of non-null elements → their values. */
function arrayLiteral(text: string, element: ArrayElementType): JsonValue[] | undefined {
  const items = parseArrayText(text);
  if (items === undefined) return undefined;
  const values: JsonValue[] = [];
  for (const item of items) {
    // A NULL element is no model default: the model's element types are non-null.
    const value = item === null ? undefined : elementValue(item, element);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

/** One element's text as the array's text form holds it → its value in snapshot terms. */
function elementValue(text: string, element: ArrayElementType): JsonValue | undefined {
  switch (element.kind) {
    case "smallint":
    case "integer":
    case "real":
    case "double":
    case "bigint":
    case "numeric": {
      if (!/^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
      if (element.kind === "bigint" || element.kind === "numeric") return /[eE]/.test(text) ? undefined : text;
      const value = Number(text);
      return Number.isFinite(value) ? value : undefined;
    }
    case "boolean":
      return text === "t" || text === "true" ? true : text === "f" || text === "false" ? false : undefined;
    default:
      return text;
  }
}
