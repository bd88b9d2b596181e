/** Named enums: `CREATE TYPE … AS ENUM` on Postgres, a CHECK constraint on SQLite. */
import { RetortError } from "../errors.js";
import { enumColumn } from "./column.js";

export interface EnumModel<V extends string = string> {
  readonly kind: "enum";
  readonly name: string;
  readonly values: readonly V[];
  /** A column of this enum type. */
  column(): ReturnType<typeof enumColumn<V>>;
}

export function enumType<const V extends readonly [string, ...string[]]>(name: string, values: V): EnumModel<V[number]> {
  if (values.length === 0 || new Set(values).size !== values.length) {
    throw new RetortError("RETORT_INVALID_MODEL", `enum "${name}" needs at least one value and no duplicates`, {
      details: { enum: name, values },
    });
  }
  const frozen = Object.freeze([...values]) as readonly V[number][];
  return Object.freeze({
    kind: "enum" as const,
    name,
    values: frozen,
    column: () => enumColumn<V[number]>(name, frozen),
  });
}

export function isEnumModel(value: unknown): value is EnumModel {
  return typeof value === "object" && value !== null && (value as EnumModel).kind === "enum" && Array.isArray((value as EnumModel).values);
}
