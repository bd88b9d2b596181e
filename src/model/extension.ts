/**
 * Postgres extensions the schema needs (`CREATE EXTENSION`): a uuid_generate_v4() default needs
 * "uuid-ossp", a gin_trgm_ops index "pg_trgm". Exported from a models module like enumType().
 * They are created in the schema Retort manages (SQLite has no extensions: nothing is done there).
 */
import { RetortError } from "../errors.js";
import { assertIdentifierFits } from "../schema/naming.js";

export interface ExtensionModel {
  readonly kind: "extension";
  /** The extension's name as CREATE EXTENSION takes it: "uuid-ossp", "pg_trgm", "citext". */
  readonly name: string;
}

export function extension(name: string): ExtensionModel {
  if (typeof name !== "string" || name.trim() === "") {
    throw new RetortError("RETORT_INVALID_MODEL", `extension(): the name must be a non-empty string (got ${JSON.stringify(name) ?? String(name)})`, {
      hint: 'Name the Postgres extension as CREATE EXTENSION takes it: extension("uuid-ossp").',
    });
  }
  assertIdentifierFits(name, `extension "${name}"`, { extension: name });
  return Object.freeze({ kind: "extension" as const, name });
}

export function isExtensionModel(value: unknown): value is ExtensionModel {
  return typeof value === "object" && value !== null && (value as ExtensionModel).kind === "extension" && typeof (value as ExtensionModel).name === "string";
}
