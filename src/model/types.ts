/**
 * Types derived from a model: the row a query returns, what an insert needs, what an update
 * may change, and the database interface for a typed Kysely instance. No codegen: all of it is
 * computed from the `table()` definitions.
 */
import type { ColumnType as KyselyColumnType } from "kysely";
import type { ColumnsShape, ColumnDbName, StateOf, TableModel } from "./table.js";

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ColumnsOf<T> = T extends TableModel<string, infer C> ? C : never;

/** The value of a column as read: `T`, or `T | null` when nullable. */
export type ColumnValue<C> = StateOf<C>["notNull"] extends true ? StateOf<C>["data"] : StateOf<C>["data"] | null;

type RequiredOnInsert<C extends ColumnsShape> = {
  [K in keyof C]: StateOf<C[K]>["notNull"] extends true ? (StateOf<C[K]>["hasDefault"] extends true ? never : K) : never;
}[keyof C];

/** A row as returned by queries, keyed by the model's TypeScript keys. */
export type Row<T> = Simplify<{ [K in keyof ColumnsOf<T>]: ColumnValue<ColumnsOf<T>[K]> }>;

/** What `create` needs: NOT NULL columns without any default are required; the rest optional. */
export type Insert<T> = Simplify<
  { [K in RequiredOnInsert<ColumnsOf<T>>]: ColumnValue<ColumnsOf<T>[K]> } & {
    [K in Exclude<keyof ColumnsOf<T>, RequiredOnInsert<ColumnsOf<T>>>]?: ColumnValue<ColumnsOf<T>[K]>;
  }
>;

/** What `update` accepts: any subset of the columns. */
export type Update<T> = Simplify<{ [K in keyof ColumnsOf<T>]?: ColumnValue<ColumnsOf<T>[K]> }>;

/** Primary-key value: the single key's value, or an object of the composite key's values. */
export type PrimaryKeyValue<T> = Row<T>[keyof Row<T>] | Partial<Row<T>>;

type KyselyColumn<C> = StateOf<C>["hasDefault"] extends true
  ? KyselyColumnType<ColumnValue<C>, ColumnValue<C> | undefined, ColumnValue<C>>
  : StateOf<C>["notNull"] extends true
    ? ColumnValue<C>
    : KyselyColumnType<ColumnValue<C>, ColumnValue<C> | undefined, ColumnValue<C>>;

/** One table as Kysely sees it: database column names → column types. */
export type KyselyTable<T> = {
  [K in keyof ColumnsOf<T> & string as ColumnDbName<K, ColumnsOf<T>[K]>]: KyselyColumn<ColumnsOf<T>[K]>;
};

/** The tables among a schema object's values (enums and relations are skipped). */
export type TablesOf<S> = { [K in keyof S as S[K] extends TableModel<string, any> ? K : never]: S[K] };

/** The Kysely database interface for a schema object: `Kysely<DB<typeof schema>>`. */
export type DB<S> = {
  [K in keyof TablesOf<S> as TablesOf<S>[K] extends TableModel<infer N, any> ? N : never]: KyselyTable<TablesOf<S>[K]>;
};
