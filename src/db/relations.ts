/**
 * Relation loading: resolve a declared relation to join columns through the schema's foreign
 * keys, then load it for a whole batch of parent rows with one query per relation level.
 */
import { RetortError } from "../errors.js";
import type { ManyRelation, OneRelation, Relation, Relations } from "../model/relations.js";
import type { AnyTable } from "../model/table.js";
import type { Row } from "../model/types.js";
import type { OrderBy, Where } from "./filters.js";
import type { ColumnInfo, TableInfo } from "./table-info.js";

// ---- types ---------------------------------------------------------------------------------

type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The relations declared for table T in schema object S. */
export type RelationsOf<S, T> = {
  [K in keyof S]: S[K] extends Relations<infer U, infer R> ? (Mutual<U, T> extends true ? R : never) : never;
}[keyof S];

type RelsOf<S, T> = [RelationsOf<S, T>] extends [never] ? {} : RelationsOf<S, T>;

type TargetOf<R> = R extends OneRelation<infer U> ? U : R extends ManyRelation<infer U> ? U : never;

export interface RelationQuery<S, T> {
  where?: Where<T>;
  orderBy?: OrderBy<T>;
  with?: WithSpec<S, T>;
}

/** `with: { members: true, guild: { with: { … } } }` */
export type WithSpec<S, T> = {
  [K in keyof RelsOf<S, T>]?: true | RelationQuery<S, TargetOf<RelsOf<S, T>[K]>>;
};

type NestedWith<X> = X extends { with: infer N } ? N : {};

/** A row plus the relations asked for in W. */
export type RowWith<S, T, W> = Row<T> & {
  [K in keyof W & keyof RelsOf<S, T>]: RelsOf<S, T>[K] extends OneRelation<infer U>
    ? RowWith<S, U, NestedWith<W[K]>> | null
    : RelsOf<S, T>[K] extends ManyRelation<infer U>
      ? RowWith<S, U, NestedWith<W[K]>>[]
      : never;
};

// ---- runtime -------------------------------------------------------------------------------

export interface ResolvedRelation {
  name: string;
  kind: "one" | "many";
  target: AnyTable;
  /** Columns on the parent row / on the related rows that must be equal. */
  parentColumns: ColumnInfo[];
  childColumns: ColumnInfo[];
}

/** Resolve `relation` declared on `source` to join columns, through the foreign keys. */
export function resolveRelation(name: string, relation: Relation, source: TableInfo, target: TableInfo): ResolvedRelation {
  // one(): the foreign key is on the source table; many(): on the target table.
  const [fkTable, refTable] = relation.kind === "one" ? [source, target] : [target, source];
  const candidates = fkTable.schema.foreignKeys.filter(
    (fk) => fk.refTable === refTable.name && (relation.via === undefined || (fk.columns.length === 1 && fk.columns[0] === relation.via.dbName)),
  );
  if (candidates.length !== 1) {
    throw new RetortError(
      "RETORT_INVALID_MODEL",
      candidates.length === 0
        ? `relation ${source.name}.${name}: no foreign key from ${fkTable.name} to ${refTable.name}${relation.via ? ` on ${relation.via.dbName}` : ""}`
        : `relation ${source.name}.${name}: ${fkTable.name} has ${candidates.length} foreign keys to ${refTable.name}`,
      { hint: candidates.length === 0 ? "Add .references(() => …) to the column, or fix `via`." : "Say which one with { via: <foreign-key column> }." },
    );
  }
  const fk = candidates[0]!;
  const fkColumns = fk.columns.map((c) => fkTable.byDbName.get(c)!);
  const refColumns = fk.refColumns.map((c) => refTable.byDbName.get(c)!);
  return relation.kind === "one"
    ? { name, kind: "one", target: target.model, parentColumns: fkColumns, childColumns: refColumns }
    : { name, kind: "many", target: target.model, parentColumns: refColumns, childColumns: fkColumns };
}

/** A Map key for a tuple of column values (bigint, Date and bytes compare by value). */
export function tupleKey(values: unknown[]): string {
  return values
    .map((v) => (v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : String(v)))
    .join("\u0000");
}

/**
 * The Map key of a row's join columns. A single string, number or bigint is its own key (a Map
 * compares those by value), which spares building a string per row; other values go through
 * tupleKey. Both sides of one relation have the same column types, so they get the same kind
 * of key.
 */
function keyFunction(columns: ColumnInfo[]): (row: Record<string, unknown>) => unknown {
  if (columns.length === 1) {
    const key = columns[0]!.key;
    return (row) => {
      const value = row[key];
      if (value === null || value === undefined) return undefined;
      return typeof value === "object" ? tupleKey([value]) : value;
    };
  }
  return (row) => {
    const values = columns.map((c) => row[c.key]);
    return values.some((v) => v === null || v === undefined) ? undefined : tupleKey(values);
  };
}

type Loader = (where: Record<string, unknown>, query: { where?: unknown; orderBy?: unknown; with?: unknown }) => Promise<Record<string, unknown>[]>;

const BATCH = 5000;

/** Attach relation `rel` to every row in `rows` with one query (per 5,000 distinct keys). */
export async function attachRelation(rows: Record<string, unknown>[], rel: ResolvedRelation, query: true | Record<string, unknown>, load: Loader): Promise<void> {
  const options = query === true ? {} : query;
  const parentKey = keyFunction(rel.parentColumns);
  const childKey = keyFunction(rel.childColumns);
  const distinct = new Map<unknown, Record<string, unknown>>();
  for (const row of rows) {
    const key = parentKey(row);
    if (key !== undefined && !distinct.has(key)) distinct.set(key, row);
  }
  const parents = [...distinct.values()];
  const children: Record<string, unknown>[] = [];
  for (let i = 0; i < parents.length; i += BATCH) {
    const chunk = parents.slice(i, i + BATCH);
    const where =
      rel.childColumns.length === 1
        ? { [rel.childColumns[0]!.key]: { in: chunk.map((p) => p[rel.parentColumns[0]!.key]) } }
        : { or: chunk.map((p) => Object.fromEntries(rel.childColumns.map((c, j) => [c.key, p[rel.parentColumns[j]!.key]]))) };
    const loaded = await load(where, options);
    for (const child of loaded) children.push(child);
  }
  const grouped = new Map<unknown, Record<string, unknown>[]>();
  for (const child of children) {
    const key = childKey(child);
    const list = grouped.get(key);
    if (list) list.push(child);
    else grouped.set(key, [child]);
  }
  const one = rel.kind === "one";
  for (const row of rows) {
    const key = parentKey(row);
    const matches = key === undefined ? undefined : grouped.get(key);
    row[rel.name] = one ? (matches?.[0] ?? null) : (matches ?? []);
  }
}
