/**
 * Relations, declared from foreign keys and loaded in batches (one query per relation level):
 *
 *   export const guildRelations = relations(guilds, ({ many }) => ({ members: many(members) }));
 *   export const memberRelations = relations(members, ({ one }) => ({ guild: one(guilds) }));
 *
 * `one(target)` follows a foreign key of this table to `target`; `many(target)` follows a
 * foreign key of `target` back to this table. When two tables are joined by more than one
 * foreign key, say which with `{ via: column }` (the foreign-key column).
 */
import type { AnyTable, ColumnRef } from "./table.js";

export interface OneRelation<T extends AnyTable = AnyTable> {
  readonly kind: "one";
  readonly target: T;
  readonly via?: ColumnRef<any>;
}

export interface ManyRelation<T extends AnyTable = AnyTable> {
  readonly kind: "many";
  readonly target: T;
  readonly via?: ColumnRef<any>;
}

export type Relation = OneRelation | ManyRelation;

export interface Relations<T extends AnyTable = AnyTable, R extends Record<string, Relation> = Record<string, Relation>> {
  readonly kind: "relations";
  readonly table: T;
  readonly relations: R;
}

const helpers = {
  one: <T extends AnyTable>(target: T, options: { via?: ColumnRef<any> } = {}): OneRelation<T> =>
    Object.freeze({ kind: "one" as const, target, ...options }),
  many: <T extends AnyTable>(target: T, options: { via?: ColumnRef<any> } = {}): ManyRelation<T> =>
    Object.freeze({ kind: "many" as const, target, ...options }),
};

export function relations<T extends AnyTable, R extends Record<string, Relation>>(table: T, define: (h: typeof helpers) => R): Relations<T, R> {
  return Object.freeze({ kind: "relations" as const, table, relations: Object.freeze(define(helpers)) });
}

export function isRelations(value: unknown): value is Relations {
  return typeof value === "object" && value !== null && (value as Relations).kind === "relations";
}
