/**
 * Value codecs shared by the Postgres and PGlite drivers. Both backends hand us result values as
 * Postgres text; these parsers turn them into Retort's TypeScript types, and `encodeValue` turns
 * TypeScript values into what both drivers bind. The contract (the same on SQLite):
 *
 *   uuid, text, varchar, enum → string      smallint, integer, real, double → number
 *   bigint → bigint                          numeric → string, as Postgres prints it
 *   boolean → boolean                        timestamptz → Date
 *   timestamp → Date (the stored wall time read as UTC, whatever the process TZ)
 *   date → "YYYY-MM-DD"                      time → "HH:MM:SS[.ffffff]"
 *   json, jsonb → parsed JSON                bytea → Uint8Array (never a Buffer)
 *   arrays (text[], varchar[], integer[], bigint[], numeric[], boolean[], uuid[], date[]…) →
 *   JS arrays of the element's values, NULL elements null
 */
import type { ColumnType } from "../../schema/snapshot.js";

/** Type OIDs of the built-in types whose text form we parse ourselves. */
export const Oid = {
  bytea: 17,
  int8: 20,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
} as const;

export type TextParser = (text: string) => unknown;

const MS_PER_MINUTE = 60_000;
/** Seconds in an offset's optional minutes and seconds fields. */
const OFFSET_UNITS = [60, 1] as const;

// `1999-12-31 23:59:59.123456[+01[:30[:15]]][ BC]`; Postgres' ISO DateStyle, which both backends use.
const TIMESTAMP_PATTERN =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/**
 * Parse a timestamp's text form. Without an offset in the text (a `timestamp` column), the wall
 * time is read as UTC, so the result never depends on the machine's time zone. `infinity` becomes
 * ±Infinity, as node-postgres does, because no Date can hold it.
 */
export function parseTimestamp(text: string): Date | number {
  const fast = commonTimestampMs(text);
  if (fast !== undefined) return new Date(fast);
  const match = TIMESTAMP_PATTERN.exec(text);
  if (!match) {
    if (text === "infinity") return Infinity;
    if (text === "-infinity") return -Infinity;
    return new Date(Number.NaN);
  }
  let year = Number(match[1]);
  // 1 BC is year 0 in the proleptic Gregorian calendar JS uses.
  if (match[12]) year = 1 - year;
  // Milliseconds are the first three digits (Date holds no microseconds; truncate, never round up).
  const fraction = match[7] ? Number(match[7].padEnd(3, "0").slice(0, 3)) : 0;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, Number(match[2]) - 1, Number(match[3]));
  date.setUTCHours(Number(match[4]), Number(match[5]), Number(match[6]), fraction);
  if (match[8]) {
    const offsetMinutes = Number(match[9]) * 60 + Number(match[10] ?? 0) + Number(match[11] ?? 0) / 60;
    const sign = match[8] === "+" ? 1 : -1;
    date.setTime(date.getTime() - sign * offsetMinutes * MS_PER_MINUTE);
  }
  return date;
}

/** The number of `count` decimal digits at `start`, or -1 when any is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The form Postgres prints for every row of a timestamp column — `YYYY-MM-DD HH:MM:SS[.f…][±HH[:MM[:SS]]]`
 * with a year from 100 to 9999 — read digit by digit: about ten times cheaper than the pattern,
 * and a read row may hold several. Anything else (BC, 5-digit years, infinity) returns undefined
 * and takes the pattern, which gives the same result for this form.
 */
function commonTimestampMs(text: string): number | undefined {
  const length = text.length;
  if (length < 19 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32) return undefined;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  // Date.UTC maps years 0-99 to 1900-1999: leave those to the pattern's setUTCFullYear.
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < length && i - start < 6 && digitsAt(text, i, 1) >= 0) i++;
    if (i === start) return undefined;
    // Milliseconds are the first three digits (truncated, as the pattern path does).
    for (let k = 0, scale = 100; k < 3; k++, scale /= 10) if (start + k < i) ms += digitsAt(text, start + k, 1) * scale;
  }
  let offsetMs = 0;
  if (i < length) {
    const sign = text.charCodeAt(i) === 43 ? 1 : text.charCodeAt(i) === 45 ? -1 : 0;
    const hours = digitsAt(text, i + 1, 2);
    if (sign === 0 || hours < 0) return undefined;
    let offsetSeconds = hours * 3600;
    i += 3;
    for (const unit of OFFSET_UNITS) {
      if (i >= length) break;
      const part = text.charCodeAt(i) === 58 ? digitsAt(text, i + 1, 2) : -1;
      if (part < 0) return undefined;
      offsetSeconds += part * unit;
      i += 3;
    }
    if (i !== length) return undefined;
    offsetMs = sign * offsetSeconds * 1000;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMs;
}

/** bytea's text form: hex (`\x00ff`, the default output) or the old escape format. */
export function parseBytea(text: string): Uint8Array {
  if (text.startsWith("\\x")) {
    const length = (text.length - 2) >>> 1;
    const bytes = new Uint8Array(length);
    // Decode natively into our own ArrayBuffer: no Buffer pool slab leaks out to the caller.
    Buffer.from(bytes.buffer, 0, length).write(text.slice(2), "hex");
    return bytes;
  }
  return parseEscapedBytea(text);
}

function parseEscapedBytea(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char !== 0x5c) {
      out.push(char);
    } else if (text[i + 1] === "\\") {
      out.push(0x5c);
      i++;
    } else {
      out.push(Number.parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    }
  }
  return Uint8Array.from(out);
}

const identity = (text: string): string => text;

/** Array elements as text (null for NULL), nested for a multi-dimensional array. */
export type ArrayText = Array<string | null | ArrayText>;

/**
 * A one-dimensional array's text form (`{1,NULL,"a,b","x\\"y"}`) → its elements as text, null for
 * an unquoted NULL (a quoted "NULL" is the string). Undefined for anything else: a nested array,
 * bounds (`[0:1]={…}`), unbalanced quotes. Elements are separated by commas (box[] alone uses ";").
 */
export function parseArrayText(text: string): Array<string | null> | undefined {
  const items = parseArrayTextNested(text);
  return items?.every((item) => !Array.isArray(item)) ? (items as Array<string | null>) : undefined;
}

/** Any array's text form, nested for more dimensions (raw queries may return those); undefined when malformed. */
export function parseArrayTextNested(text: string): ArrayText | undefined {
  const state = { i: 0 };
  const items = readArray(text, state);
  return items !== undefined && state.i === text.length ? items : undefined;
}

/** The array starting at `state.i` (a "{"), leaving `state.i` past its "}". */
function readArray(text: string, state: { i: number }): ArrayText | undefined {
  if (text[state.i] !== "{") return undefined;
  const items: ArrayText = [];
  let i = state.i + 1;
  while (text[i] === " ") i++;
  if (text[i] === "}") {
    state.i = i + 1;
    return items;
  }
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "{") {
      state.i = i;
      const inner = readArray(text, state);
      if (inner === undefined) return undefined;
      items.push(inner);
      i = state.i;
    } else if (text[i] === '"') {
      let value = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") i++;
        value += text[i++] ?? "";
      }
      if (text[i] !== '"') return undefined;
      i++;
      items.push(value);
    } else {
      let j = i;
      while (j < text.length && text[j] !== "," && text[j] !== "}") j++;
      const raw = text.slice(i, j).trim();
      if (raw === "" || /[{"\\]/.test(raw)) return undefined;
      items.push(raw.toUpperCase() === "NULL" ? null : raw);
      i = j;
    }
    while (text[i] === " ") i++;
    if (text[i] === "}") {
      state.i = i + 1;
      return items;
    }
    if (text[i] !== ",") return undefined;
    i++;
  }
}

/** Element text that must be quoted in an array literal, as Postgres prints it: empty, "NULL", or holding a delimiter, quote, backslash or space. */
const NEEDS_QUOTES = /^$|^null$|[{}",\\\s]/i;

/** A Postgres array literal: `{1,"a,b","NULL",NULL}` (elements quoted where Postgres would quote them). */
export function arrayLiteral(values: readonly unknown[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const value = values[i];
    if (value === null || value === undefined) out += "NULL";
    else if (Array.isArray(value)) out += arrayLiteral(value);
    else {
      const text = String(value);
      out += NEEDS_QUOTES.test(text) ? `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"` : text;
    }
  }
  return `${out}}`;
}

/**
 * A parser of an array's text form whose elements `element` parses (no element parser: text).
 * Columns hold one dimension; raw queries may return more (nested arrays) or bounds (`[0:1]={…}`, dropped).
 */
function arrayParser(element?: TextParser): TextParser {
  const map = (items: ArrayText): unknown[] => items.map((item) => (item === null ? null : Array.isArray(item) ? map(item) : element ? element(item) : item));
  return (text) => {
    const items = parseArrayTextNested(text.replace(/^(\[-?\d+:-?\d+\])+=/, ""));
    if (items === undefined) throw new Error(`Retort cannot read the array value ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`);
    return map(items);
  };
}

const parseNumber = (text: string): number => Number(text);
const parseBoolean = (text: string): boolean => text === "t" || text === "true";

/** Array type oids → parsers (pg's own give numeric[] as floats, int8[] as strings and date[] as Dates). */
export const arrayResultParsers: Readonly<Record<number, TextParser>> = {
  1009: arrayParser(), // text[]
  1015: arrayParser(), // varchar[]
  2951: arrayParser(), // uuid[]
  1231: arrayParser(), // numeric[]: as printed
  1182: arrayParser(), // date[]: "YYYY-MM-DD"
  1005: arrayParser(parseNumber), // int2[]
  1007: arrayParser(parseNumber), // int4[]
  1021: arrayParser(parseNumber), // float4[]
  1022: arrayParser(parseNumber), // float8[]
  1016: arrayParser((text) => BigInt(text)), // int8[]
  1000: arrayParser(parseBoolean), // bool[]
};

/**
 * The result parsers both drivers install (per pool / per PGlite instance, never globally).
 * Types not listed keep the driver's default, which already matches the contract.
 */
export const resultParsers: Readonly<Record<number, TextParser>> = {
  [Oid.int8]: (text) => BigInt(text),
  [Oid.date]: identity,
  [Oid.timestamp]: parseTimestamp,
  [Oid.timestamptz]: parseTimestamp,
  [Oid.bytea]: parseBytea,
  ...arrayResultParsers,
};

/** Hex text of some bytes, for SQL and COPY. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * A TypeScript value for a column of `type` → what the drivers bind. Dates become ISO strings
 * (for `timestamp` without the Z, so the UTC wall time is stored), bigints decimal strings, JSON
 * its text (always: pg would turn a JS array into a Postgres array), null and undefined null.
 * Anything else is bound as given.
 */
export function encodeValue(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "json":
    case "jsonb":
      return JSON.stringify(value);
    case "timestamptz":
      return value instanceof Date ? value.toISOString() : value;
    case "timestamp":
      return value instanceof Date ? value.toISOString().slice(0, -1) : value;
    case "date":
      return value instanceof Date ? value.toISOString().slice(0, 10) : value;
    case "bigint":
      return typeof value === "bigint" ? value.toString() : value;
    case "array":
      // The text form for every element type, so both drivers bind the same thing (bigints exact).
      return Array.isArray(value) ? arrayLiteral(value) : value;
    default:
      return value;
  }
}
