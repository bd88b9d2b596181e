/**
 * `defineSeed`: what a file under seeds/ default-exports. Kept free of runtime imports so the
 * light entries can export it.
 */
import type { Controller } from "../db/controller.js";
import type { Database, Models } from "../db/database.js";
import type { AnyTable } from "../model/table.js";
import type { DB, Insert, Row } from "../model/types.js";
import type { Kysely } from "kysely";
import type { SeedRandom } from "./random.js";

/** What seedRows did. */
export interface SeedRowsResult {
  created: number;
  updated: number;
  unchanged: number;
}

export interface SeedContext<S = Record<string, unknown>> {
  /** The typed controllers of the project's models, on this seed's transaction. */
  models: Models<S>;
  /** Kysely on this seed's transaction. */
  kysely: Kysely<DB<S>>;
  /** The seed's transaction. */
  db: Database<S>;
  /** Seeded by the file's name: the same values on every run. */
  random: SeedRandom;
  /** The environment the seed runs in (development, test, …). */
  env: string;
  /**
   * Make `rows` exist, matched on the natural key `key`: a row that is missing is created, one
   * that differs in a given field is updated (those fields only), an equal one is left alone, so
   * running a seed twice leaves the same rows (timestamps included).
   */
  seedRows<T extends AnyTable>(target: Controller<any, T>, rows: Insert<T>[], options: { key: Array<keyof Row<T> & string> }): Promise<SeedRowsResult>;
}

export interface SeedDefinition<S = Record<string, unknown>> {
  /** The environments this seed runs in (default ["development"]); never "production". */
  environments?: string[];
  run(context: SeedContext<S>): Promise<void> | void;
}

export interface DefinedSeed<S = Record<string, unknown>> extends SeedDefinition<S> {
  readonly kind: "retort-seed";
}

/** `export default defineSeed<typeof schema>({ run: async ({ models, seedRows, random }) => { … } })` */
export function defineSeed<S = Record<string, unknown>>(definition: SeedDefinition<S>): DefinedSeed<S> {
  return { ...definition, kind: "retort-seed" };
}

/** Brand check, not instanceof: a seed file may load another copy of Retort. */
export function isDefinedSeed(value: unknown): value is DefinedSeed<any> {
  return typeof value === "object" && value !== null && (value as DefinedSeed).kind === "retort-seed" && typeof (value as DefinedSeed).run === "function";
}
