/**
 * Value conversion between Retort's TypeScript values and what SQLite stores (see the storage table
 * in ddl.ts): `encodeValue` for a column of known type, `toBindable` for parameters of unknown
 * type (raw Kysely queries), and decoders for result columns.
 */
import { RetortError } from "../../errors.js";
import { canonicalInet } from "../../model/inet.js";
import { MAX_TIME_PRECISION, typeModifier, type ArrayElementType, type ColumnType } from "../../schema/snapshot.js";

export type Decoder = (value: unknown) => unknown;

// ---------------------------------------------------------------------------------------------
// numeric

const DECIMAL = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;
const SPECIAL = /^\s*([+-])?(nan|inf|infinity)\s*$/i;
/** Postgres' own limits on digits before and after the point. */
const MAX_EXPONENT = 131072;

/**
 * A decimal as Postgres prints it: no "+", no leading zeros, "-0" is "0", exponents expanded.
 * With a scale (numeric(p,s); numeric(p) means s = 0) it rounds half away from zero and pads to
 * exactly `scale` digits; without one, the fraction digits given are kept ("1.50" stays "1.50").
 * With a precision, too many integer digits is an error, as on Postgres. Returns undefined for
 * text that is not a decimal.
 */
export function canonicalNumeric(input: string, precision?: number, scale?: number): string | undefined {
  const match = DECIMAL.exec(input);
  if (!match) {
    const special = SPECIAL.exec(input);
    if (!special) return undefined;
    if (special[2]!.toLowerCase() === "nan") return "NaN";
    if (precision !== undefined) throw numericOverflow(precision, scale);
    return special[1] === "-" ? "-Infinity" : "Infinity";
  }
  const [, sign, intPart = "", fracPart = "", expText] = match;
  if (intPart === "" && fracPart === "") return undefined;
  const exponent = expText === undefined ? 0 : Number(expText);
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;

  // Place the point in the digit string `digits` at index `point`.
  let digits = intPart + fracPart;
  let point = intPart.length + exponent;
  if (point < 0) {
    digits = "0".repeat(-point) + digits;
    point = 0;
  } else if (point > digits.length) {
    digits += "0".repeat(point - digits.length);
  }
  const targetScale = scale ?? (precision !== undefined ? 0 : digits.length - point);
  const kept = point + targetScale;
  if (digits.length > kept) {
    const roundUp = digits.charCodeAt(kept) >= 53; /* "5" */
    digits = digits.slice(0, kept);
    if (roundUp) {
      digits = incrementDigits(digits);
      if (digits.length > kept) point += 1;
    }
  } else {
    digits += "0".repeat(kept - digits.length);
  }

  const integer = digits.slice(0, point).replace(/^0+/, "");
  const fraction = digits.slice(point);
  if (precision !== undefined && integer.length > precision - targetScale) throw numericOverflow(precision, scale);
  const isZero = integer === "" && !/[1-9]/.test(fraction);
  return `${sign === "-" && !isZero ? "-" : ""}${integer || "0"}${fraction ? `.${fraction}` : ""}`;
}

/** "129" → "130", "99" → "100". */
function incrementDigits(digits: string): string {
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === "9") i--;
  if (i < 0) return `1${"0".repeat(digits.length)}`;
  return digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) + 1) + "0".repeat(digits.length - i - 1);
}

function numericOverflow(precision: number, scale: number | undefined): RetortError {
  const s = scale ?? 0;
  return new RetortError("RETORT_VALIDATION", `Numeric value does not fit numeric(${precision},${s}): at most ${precision - s} digits before the point`, {
    hint: "Use a smaller value or widen the column's precision.",
  });
}

// ---------------------------------------------------------------------------------------------
// dates and times

const ZONED = /(?:Z|[+-]\d\d(?::?\d\d)?)$/i;

/** Parse timestamp text; text without a zone (e.g. from CURRENT_TIMESTAMP) is UTC, as stored. */
export function parseTimestamp(text: string): Date {
  if (text.endsWith("Z") || ZONED.test(text)) return new Date(text);
  return new Date(`${text.replace(" ", "T")}Z`);
}

const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

/** Microsecond counts rounded, as Postgres rounds, to `precision` fractional-second digits: half away from zero. */
function roundMicros(micros: number, precision: number | undefined): number {
  if (precision === undefined || precision >= MAX_TIME_PRECISION) return micros;
  const scale = 10 ** (MAX_TIME_PRECISION - precision);
  return Math.sign(micros) * Math.round(Math.abs(micros) / scale) * scale;
}

/** C's rint(): Postgres reads a time's fraction into microseconds with it, float noise included. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const rest = value - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
}

/**
 * "HH:MM:SS[.fraction]" as Postgres prints a time: seconds always, fraction without trailing
 * zeros, rounded to the column's precision (µs at most), which can carry up to 24:00:00 as on Postgres.
 */
function canonicalTime(text: string, precision?: number): string | undefined {
  const match = TIME.exec(text.trim());
  if (!match) return undefined;
  const [, hours, minutes, seconds = "00", fraction = ""] = match;
  const micros = roundMicros(roundHalfEven(Number(`0.${fraction || "0"}`) * 1e6), precision);
  const whole = (Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds) + Math.floor(micros / 1e6);
  const two = (n: number) => String(n).padStart(2, "0");
  const rest = String(micros % 1e6).padStart(6, "0").replace(/0+$/, "");
  return `${two(Math.floor(whole / 3600))}:${two(Math.floor(whole / 60) % 60)}:${two(whole % 60)}${rest ? `.${rest}` : ""}`;
}

/** Milliseconds between 1970 and 2000, the epoch Postgres rounds timestamps from (the sign of a half matters). */
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);

/** A Date rounded as a timestamp(precision) column stores it (JS Dates keep milliseconds: only 0..2 change it). */
function roundTimestamp(date: Date, precision: number | undefined): Date {
  if (precision === undefined || precision >= 3) return date;
  const micros = roundMicros((date.getTime() - POSTGRES_EPOCH_MS) * 1000, precision);
  return new Date(micros / 1000 + POSTGRES_EPOCH_MS);
}

const DATE = /^\d{4,}-\d{2}-\d{2}$/;

// ---------------------------------------------------------------------------------------------
// encoding

function invalid(type: ColumnType, expected: string): RetortError {
  return new RetortError("RETORT_VALIDATION", `Invalid value for a ${describeType(type)} column: expected ${expected}`, {
    hint: "Pass a value of the column's TypeScript type.",
  });
}

export function describeType(type: ColumnType): string {
  switch (type.kind) {
    case "numeric":
      if (type.precision === undefined) return "numeric";
      return `numeric(${type.precision},${type.scale ?? 0})`;
    case "enum":
      return `enum ${type.name}`;
    case "array":
      return `${describeType(type.element)}[]`;
    default:
      return `${type.kind}${typeModifier(type)}`;
  }
}

const INT_RANGES = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
} as const;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UUID = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

/** A TypeScript value for a column of `type` → what better-sqlite3 binds. null/undefined → NULL. */
export function encodeValue(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case "text":
    case "varchar":
    case "enum":
      if (typeof value !== "string") throw invalid(type, "a string");
      return value;
    case "inet": {
      const canonical = typeof value === "string" ? canonicalInet(value) : undefined;
      if (canonical === undefined) throw invalid(type, 'an IPv4 or IPv6 address, optionally with a netmask length ("10.0.0.0/8")');
      return canonical;
    }
    case "uuid": {
      const match = typeof value === "string" ? UUID.exec(value) : null;
      if (!match) throw invalid(type, "a UUID string");
      return match.slice(1).join("-").toLowerCase();
    }
    case "smallint":
    case "integer": {
      const n = typeof value === "bigint" || typeof value === "string" ? Number(value) : value;
      const [min, max] = INT_RANGES[type.kind];
      if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw invalid(type, `an integer from ${min} to ${max}`);
      return n;
    }
    case "bigint": {
      let n: bigint;
      try {
        n = typeof value === "bigint" ? value : BigInt(value as number | string);
      } catch {
        throw invalid(type, "a bigint (or an integer number or digit string)");
      }
      if (n < INT64_MIN || n > INT64_MAX) throw invalid(type, "a 64-bit integer");
      return n;
    }
    case "numeric": {
      const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "bigint" ? String(value) : undefined;
      const canonical = text === undefined ? undefined : canonicalNumeric(text, type.precision, type.scale);
      if (canonical === undefined) throw invalid(type, "a decimal string");
      return canonical;
    }
    case "real":
    case "double": {
      const n = typeof value === "string" ? Number(value) : value;
      if (typeof n !== "number") throw invalid(type, "a number");
      return n;
    }
    case "boolean":
      if (typeof value !== "boolean") throw invalid(type, "true or false");
      return value ? 1 : 0;
    case "timestamptz":
    case "timestamp": {
      const date = value instanceof Date ? value : typeof value === "string" ? parseTimestamp(value) : typeof value === "number" ? new Date(value) : undefined;
      if (!date || Number.isNaN(date.getTime())) throw invalid(type, "a valid Date");
      return roundTimestamp(date, type.precision).toISOString();
    }
    case "date":
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
      if (typeof value !== "string" || !DATE.test(value)) throw invalid(type, 'a "YYYY-MM-DD" string');
      return value;
    case "time": {
      const canonical = typeof value === "string" ? canonicalTime(value, type.precision) : undefined;
      if (canonical === undefined) throw invalid(type, 'a "HH:MM:SS[.fraction]" string');
      return canonical;
    }
    case "json":
    case "jsonb":
      return JSON.stringify(value);
    case "array":
      if (!Array.isArray(value)) throw invalid(type, `an array of ${describeType(type.element)} values`);
      return `[${value.map((item, index) => jsonElement(type, item, index)).join(",")}]`;
    case "bytea":
      if (!(value instanceof Uint8Array)) throw invalid(type, "a Uint8Array");
      return toBuffer(value);
  }
}

/**
 * One element of an array column as JSON text: each element in its scalar storage form, booleans
 * as true/false, bigints as exact JSON integers (SQLite's JSON reads them as 64-bit integers).
 */
function jsonElement(type: Extract<ColumnType, { kind: "array" }>, item: unknown, index: number): string {
  if (item === null || item === undefined) return "null";
  let encoded: unknown;
  try {
    encoded = encodeValue(type.element, item);
  } catch (error) {
    if (!(error instanceof RetortError)) throw error;
    throw invalid(type, `element ${index} to be ${error.message.replace(/^.*: expected /, "")}`);
  }
  switch (type.element.kind) {
    case "boolean":
      return encoded === 1 ? "true" : "false";
    case "bigint":
      return String(encoded);
    case "real":
    case "double":
      if (!Number.isFinite(encoded)) throw invalid(type, `element ${index} to be a finite number (JSON has no NaN or Infinity)`);
      return String(encoded);
    default:
      return JSON.stringify(encoded);
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A parameter of unknown column type → something better-sqlite3 accepts, so raw Kysely queries
 * work: Date → ISO text, boolean → 1/0, Uint8Array → Buffer, objects and arrays → JSON text
 * (better-sqlite3 would read a plain object as named parameters).
 */
export function toBindable(value: unknown): unknown {
  switch (typeof value) {
    case "boolean":
      return value ? 1 : 0;
    case "undefined":
      return null;
    case "object":
      if (value === null || Buffer.isBuffer(value)) return value;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new RetortError("RETORT_VALIDATION", "Cannot bind an invalid Date", { hint: "Check how the Date was built." });
        return value.toISOString();
      }
      if (value instanceof Uint8Array) return toBuffer(value);
      return JSON.stringify(value);
    default:
      return value;
  }
}

// ---------------------------------------------------------------------------------------------
// decoding (values arrive with safeIntegers on: every INTEGER is a bigint; NULL never reaches a decoder)

const identity: Decoder = (value) => value;

const toNumber: Decoder = (value) => (typeof value === "bigint" ? Number(value) : value);

const toBigint: Decoder = (value) => (typeof value === "bigint" ? value : typeof value === "number" && Number.isInteger(value) ? BigInt(value) : value);

const toBoolean: Decoder = (value) => (typeof value === "bigint" ? value !== 0n : typeof value === "number" ? value !== 0 : value);

const toDate: Decoder = (value) =>
  typeof value === "string" ? parseTimestamp(value) : typeof value === "bigint" || typeof value === "number" ? new Date(Number(value)) : value;

const parseJson: Decoder = (value) => (typeof value === "string" ? JSON.parse(value) : value);

const toUint8Array: Decoder = (value) => (value instanceof Uint8Array ? new Uint8Array(value) : value);

/** For result columns of unknown type (count(*), expressions): exact integers as number when safe. */
export const decodeUnknown: Decoder = (value) => {
  if (typeof value === "bigint") {
    return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value;
  }
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return value;
};

export function decoderFor(type: ColumnType): Decoder {
  switch (type.kind) {
    case "uuid":
    case "text":
    case "varchar":
    case "enum":
    case "date":
    case "time":
    case "inet":
      return identity;
    case "smallint":
    case "integer":
    case "real":
    case "double":
      return toNumber;
    case "bigint":
      return toBigint;
    case "numeric": {
      const { precision, scale } = type;
      const effectiveScale = scale ?? (precision !== undefined ? 0 : undefined);
      // Values written outside `encode` (raw SQL, Kysely) are canonicalised on the way out too.
      return (value) => (typeof value === "string" || typeof value === "number" || typeof value === "bigint" ? (canonicalNumeric(String(value), undefined, effectiveScale) ?? value) : value);
    }
    case "boolean":
      return toBoolean;
    case "timestamptz":
    case "timestamp":
      return toDate;
    case "json":
    case "jsonb":
      return parseJson;
    case "array":
      return arrayDecoder(type.element);
    case "bytea":
      return toUint8Array;
  }
}

/** A JSON string or number token. */
const JSON_TOKEN = /("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** JSON text with every number read as its digits (a string), so none is rounded to a double past 2^53. */
export function parseJsonDigits(text: string): unknown {
  return JSON.parse(text.replace(JSON_TOKEN, (token, string: string | undefined) => string ?? `"${token}"`));
}

/**
 * An array column's JSON text → its elements. bigint and numeric elements are read from the
 * digits as written (JSON.parse would round them to doubles past 2^53).
 */
function arrayDecoder(element: ArrayElementType): Decoder {
  const exact = element.kind === "bigint" || element.kind === "numeric";
  const scalar = decoderFor(element);
  const decodeItem = (item: unknown) => {
    if (item === null) return null;
    if (element.kind === "bigint" && typeof item === "string" && /^-?\d+$/.test(item)) return BigInt(item);
    if (element.kind === "boolean" && typeof item === "boolean") return item;
    return scalar(item);
  };
  return (value) => {
    if (typeof value !== "string") return value;
    const parsed: unknown = exact ? parseJsonDigits(value) : JSON.parse(value);
    return Array.isArray(parsed) ? parsed.map(decodeItem) : parsed;
  };
}
