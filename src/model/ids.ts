/** Id generators for client-side defaults: `t.uuid().primaryKey().defaultFn(uuidv7)`. */
import { randomBytes } from "node:crypto";
import { blake2b } from "@noble/hashes/blake2.js";

let lastMs = 0;
let sequence = 0;

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then randomness, so ids sort by creation
 * time and index well. Within one millisecond a 12-bit counter keeps them increasing.
 */
export function uuidv7(): string {
  const bytes = randomBytes(16);
  let ms = Date.now();
  if (ms <= lastMs) {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) lastMs += 1; // counter wrapped: borrow the next millisecond
    ms = lastMs;
  } else {
    sequence = bytes.readUInt16BE(6) & 0x7ff; // random start, leaving room to count up
    lastMs = ms;
  }
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A content-addressed id: `<prefix>_<blake2b-128 of the content, hex>`. The same content always
 * gives the same id (idempotent imports, deduplication). Objects are hashed by a key-sorted JSON.
 */
export function contentId(prefix: string, content: string | Uint8Array | Record<string, unknown> | unknown[]): string {
  if (!/^[a-z][a-z0-9]*$/.test(prefix)) {
    throw new TypeError(`contentId: prefix "${prefix}" must be lowercase letters and digits, starting with a letter`);
  }
  const bytes =
    content instanceof Uint8Array ? content : new TextEncoder().encode(typeof content === "string" ? content : stableJson(content));
  return `${prefix}_${Buffer.from(blake2b(bytes, { dkLen: 16 })).toString("hex")}`;
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : typeof v === "bigint"
        ? v.toString()
        : v,
  );
}
