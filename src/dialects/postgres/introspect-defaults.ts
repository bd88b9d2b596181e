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
 *   '{}'::text[], ARRAY['a'::text], '{a,"b c"}'::text[]     → string array
 *
 * Anything else (serial's nextval(...), expressions, a literal in a form we do not recognise)
 * stays { kind: "sql" } with the database's text: never a guess. Other spellings of the same
 * default (CURRENT_TIMESTAMP, transaction_timestamp(), uuidv4()) stay { kind: "sql" } too, so a
 * pulled model writes exactly what the database has; the differ still finds them equal to
 * { kind: "now" } / { kind: "random-uuid" } (normalizeDefault).
 */
import type { ColumnType, DefaultValue, JsonValue } from "../../schema/snapshot.js";

const NOW = new Set(["now()"]);
const RANDOM_UUID = new Set(["gen_random_uuid()"]);

/** A type name after `::` (`text`, `"Mood"`, `public.mood`, `timestamp with time zone`, `text[]`). */
const CAST = String.raw`::(?:[\w .\[\]]|"(?:[^"]|"")*")+`;
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
      return literal === undefined ? arrayConstructor(text) : arrayLiteral(literal);
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

/** `ARRAY['a'::text, 'b'::text]` (optionally `::text[]`) → ["a", "b"]. */
function arrayConstructor(text: string): string[] | undefined {
  const match = /^ARRAY\[(.*?)\](?:::text\[\])?$/s.exec(text);
  if (!match) return undefined;
  const items: string[] = [];
  const item = /\s*'((?:[^']|'')*)'(?:::text)?\s*(,|$)/y;
  const body = match[1]!;
  item.lastIndex = 0;
  while (item.lastIndex < body.length) {
    const found = item.exec(body);
    if (!found) return undefined;
    items.push(found[1]!.replaceAll("''", "'"));
    if (found[2] === "") break;
  }
  return item.lastIndex === body.length ? items : undefined;
}

/** A one-dimensional Postgres array literal (`{a,"b c",NULL}`) of non-null strings. */
function arrayLiteral(text: string): string[] | undefined {
  if (!text.startsWith("{") || !text.endsWith("}")) return undefined;
  const body = text.slice(1, -1);
  if (body === "") return [];
  const items: string[] = [];
  let i = 0;
  while (i <= body.length) {
    let value = "";
    if (body[i] === '"') {
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === "\\") i++;
        value += body[i] ?? "";
        i++;
      }
      if (body[i] !== '"') return undefined;
      i++;
    } else {
      const end = body.indexOf(",", i);
      value = body.slice(i, end < 0 ? body.length : end).trim();
      // Unquoted NULL is a null element; braces mean a nested array; neither is a model default.
      if (/^null$/i.test(value) || /[{}"\\]/.test(value)) return undefined;
      i = end < 0 ? body.length : end;
    }
    items.push(value);
    if (i === body.length) return items;
    if (body[i] !== ",") return undefined;
    i++;
  }
  return undefined;
}
