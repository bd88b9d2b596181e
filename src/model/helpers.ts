/** Column groups most tables want. Spread them into a table's columns. */
import { t } from "./column.js";

/** `createdAt` and `updatedAt`: timestamptz NOT NULL DEFAULT now(); controllers set updatedAt on update. */
export function timestamps() {
  return {
    createdAt: t.timestamptz().defaultNow().as("createdAt"),
    updatedAt: t.timestamptz().defaultNow().as("updatedAt"),
  };
}

/** `deletedAt` timestamptz NULL: controllers then soft-delete, hide deleted rows, and can restore. */
export function softDelete() {
  return { deletedAt: t.timestamptz().nullable().as("deletedAt") };
}
