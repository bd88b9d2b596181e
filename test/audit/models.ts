/** Models for the audit trail tests: an audited table (sensitive column, timestamps, soft delete) and a plain one. */
import { softDelete, sql, t, table, timestamps, uuidv7 } from "../../src/index.js";

export const accounts = table(
  "accounts",
  {
    id: t.serial().primaryKey(),
    email: t.text().unique(),
    name: t.text(),
    passwordHash: t.text().sensitive(),
    balance: t.bigint().default(0n),
    settings: t.jsonb<Record<string, unknown>>().default({}),
    ...timestamps(),
    ...softDelete(),
  },
  { audit: true },
);

export const notes = table("notes", { id: t.serial().primaryKey(), body: t.text() });

/** Audited, with every value known before the insert (client key, literal and now() defaults): the Postgres bulk path that builds audit rows itself. */
export const events = table(
  "audit_events",
  {
    id: t.uuid().primaryKey().defaultFn(uuidv7),
    kind: t.text(),
    count: t.integer().default(0),
    big: t.bigint().default(7n),
    data: t.jsonb<Record<string, unknown>>().default({}),
    raw: t.bytea().nullable(),
    happenedAt: t.timestamptz().defaultNow(),
    token: t.text().sensitive().nullable(),
  },
  { audit: true },
);

/** Audited, with a value only the database knows before the insert (an expression default): the Postgres bulk path through a temporary table. */
export const tagged = table(
  "audit_tagged",
  {
    id: t.serial().primaryKey(),
    label: t.text(),
    code: t.text().default(sql`upper('abc')`),
    ref: t.uuid().defaultRandom(),
  },
  { audit: true },
);

/** Audited, keyed by an identity column the database always numbers. */
export const counters = table("audit_counters", { id: t.integer().identity({ always: true }).primaryKey(), n: t.integer() }, { audit: true });
