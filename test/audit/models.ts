/** Models for the audit trail tests: an audited table (sensitive column, timestamps, soft delete) and a plain one. */
import { softDelete, t, table, timestamps } from "../../src/index.js";

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
