/**
 * Rows → COPY text format (tab-separated, `\N` for NULL, backslash escapes), produced as large
 * string chunks so the writer does one write per chunk rather than one per field. Shared by the
 * Postgres (pg-copy-streams) and PGlite (`/dev/blob`) bulk loaders.
 */
import { quoteIdent, identList } from "../sql-text.js";
import { arrayLiteral, bytesToHex } from "./codecs.js";

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPABLE = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeCopy(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPABLE, (char) => ESCAPES[char]!) : text;
}

/** One field in COPY text form. Values arrive `encode`d; Dates and objects are handled for robustness. */
function copyField(value: unknown): string {
  switch (typeof value) {
    case "string":
      return escapeCopy(value);
    case "number":
    case "bigint":
      return String(value);
    case "boolean":
      return value ? "t" : "f";
    case "undefined":
      return "\\N";
    default:
      if (value === null) return "\\N";
      // bytea's text form is `\x…`; COPY needs that backslash escaped.
      if (value instanceof Uint8Array) return `\\\\x${bytesToHex(value)}`;
      if (value instanceof Date) return value.toISOString();
      if (Array.isArray(value)) return escapeCopy(arrayLiteral(value));
      return escapeCopy(JSON.stringify(value));
  }
}

/** `COPY "table" ("a", "b") FROM <source>`, with `(FORMAT binary)` for binary data. */
export function copyFromSql(table: string, columns: readonly string[], source: string, format: "text" | "binary" = "text"): string {
  return `COPY ${quoteIdent(table)} (${identList(columns)}) FROM ${source}${format === "binary" ? " (FORMAT binary)" : ""}`;
}

/** The rows as COPY text, in chunks of roughly `chunkSize` characters (each ends at a row boundary). */
export function* copyTextChunks(rows: Iterable<readonly unknown[]>, chunkSize = 64 * 1024): Generator<string> {
  let chunk = "";
  for (const row of rows) {
    // Appending straight to the chunk (no per-row line string) keeps this loop near raw speed.
    for (let i = 0; i < row.length; i++) {
      if (i > 0) chunk += "\t";
      const value = row[i];
      chunk += typeof value === "string" ? (NEEDS_ESCAPE.test(value) ? escapeCopy(value) : value) : copyField(value);
    }
    chunk += "\n";
    if (chunk.length >= chunkSize) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}
