/**
 * Database naming: camelCase keys → snake_case names, and the constraint naming convention
 * (pk_/uq_/ix_/fk_/ck_). Names longer than Postgres' 63-byte limit are cut and suffixed with a
 * hash of the full name, so they stay unique and stable.
 */
import { createHash } from "node:crypto";
import { RetortError } from "../errors.js";

/**
 * Each uppercase ASCII letter becomes "_" + lowercase. Mirrored exactly by the SnakeCase type,
 * so the typed Kysely instance and the runtime agree.
 */
export function snakeCase(key: string): string {
  let out = "";
  for (const ch of key) out += ch >= "A" && ch <= "Z" ? `_${ch.toLowerCase()}` : ch;
  return out;
}

export const MAX_IDENTIFIER_BYTES = 63;

/**
 * A name given in a model must not be empty, and must fit Postgres' 63 bytes: Postgres would cut it without a word, and
 * the next diff would see another name (a "rename"). Rejected on every backend, so a model that
 * works on SQLite also works on Postgres. Only generated constraint names are cut (limitIdentifier).
 */
export function assertIdentifierFits(name: string, what: string, details: Record<string, unknown>): void {
  if (name === "") {
    // Postgres refuses a zero-length identifier, while SQLite would make a column named "".
    throw new RetortError("RETORT_INVALID_MODEL", `${what}: the name is empty`, { hint: "Give it a name (a column's database name comes from its key, or .name(\"…\")).", details });
  }
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes <= MAX_IDENTIFIER_BYTES) return;
  throw new RetortError("RETORT_INVALID_MODEL", `${what}: the name "${name}" is ${bytes} bytes long; Postgres allows at most ${MAX_IDENTIFIER_BYTES}`, {
    hint: "Choose a shorter name (a column keeps its TypeScript key with .name(\"short_name\")); Postgres would silently cut it.",
    details: { ...details, name, bytes },
  });
}

export function limitIdentifier(name: string): string {
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  let cut = name;
  while (Buffer.byteLength(cut, "utf8") > MAX_IDENTIFIER_BYTES - 9) cut = cut.slice(0, -1);
  return `${cut}_${hash}`;
}

/** A readable name fragment for an index expression: `lower("nickname")` → `lower_nickname`. */
export function expressionSlug(expression: string): string {
  return expression
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

export const constraintName = {
  primaryKey: (table: string) => limitIdentifier(`pk_${table}`),
  unique: (table: string, parts: string[]) => limitIdentifier(`uq_${table}_${parts.join("_")}`),
  index: (table: string, parts: string[]) => limitIdentifier(`ix_${table}_${parts.join("_")}`),
  foreignKey: (table: string, columns: string[], refTable: string) =>
    limitIdentifier(`fk_${table}_${columns.join("_")}_${refTable}`),
  check: (table: string, name: string) => limitIdentifier(`ck_${table}_${name}`),
};
