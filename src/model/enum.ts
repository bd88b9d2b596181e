/** Named enums: `CREATE TYPE … AS ENUM` on Postgres, a CHECK constraint on SQLite. */
import { RetortError } from "../errors.js";
import { assertIdentifierFits } from "../schema/naming.js";
import { enumColumn } from "./column.js";

export interface EnumModel<V extends string = string> {
  readonly kind: "enum";
  readonly name: string;
  readonly values: readonly V[];
  /** A column of this enum type. */
  column(): ReturnType<typeof enumColumn<V>>;
}

export function enumType<const V extends readonly [string, ...string[]]>(name: string, values: V): EnumModel<V[number]> {
  assertEnumLabels(name, values, `enum "${name}"`);
  const frozen = Object.freeze([...values]) as readonly V[number][];
  return Object.freeze({
    kind: "enum" as const,
    name,
    values: frozen,
    column: () => enumColumn<V[number]>(name, frozen),
  });
}

/**
 * Labels Postgres accepts and SQLite's CHECK can tell apart: at least one, none empty, none
 * twice, each a name of at most 63 bytes. `where` says which model declared them.
 */
export function assertEnumLabels(name: string, values: readonly unknown[], where: string): void {
  const fail = (problem: string, hint: string) => {
    throw new RetortError("RETORT_INVALID_MODEL", `${where}: ${problem}`, { hint, details: { enum: name, values } });
  };
  assertIdentifierFits(name, where, { enum: name });
  if (values.length === 0) fail("an enum needs at least one label", `List the labels: enumType("${name}", ["a", "b"]).`);
  const seen = new Set<unknown>();
  for (const value of values) {
    if (typeof value !== "string") fail(`the label ${String(value)} is not a string`, "Enum labels are strings.");
    if (value === "") fail("a label is empty", "Remove the empty label.");
    if (seen.has(value)) fail(`the label "${String(value)}" is listed twice`, `Remove the second "${String(value)}".`);
    seen.add(value);
    assertIdentifierFits(value as string, `${where}, label "${String(value)}"`, { enum: name });
  }
}

export function isEnumModel(value: unknown): value is EnumModel {
  return typeof value === "object" && value !== null && (value as EnumModel).kind === "enum" && Array.isArray((value as EnumModel).values);
}
