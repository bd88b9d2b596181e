/**
 * What a live database may hold that Retort's models and migrations cannot declare. `pull` and
 * `baseline` write the live schema as code, so they refuse it before writing anything: a models
 * file or baseline revision that fails to load is worse than a clear refusal.
 */
import { RetortError, isRetortError } from "../errors.js";
import { assertEnumLabels } from "../model/enum.js";
import type { Schema } from "./snapshot.js";

/** Postgres accepts enum labels `enumType()` refuses (an empty label, no label at all). */
export function refuseUndeclarableEnums(schema: Schema): void {
  for (const { name, values } of schema.enums) {
    try {
      assertEnumLabels(name, values, `enum type "${name}"`);
    } catch (error) {
      if (!isRetortError(error, "RETORT_INVALID_MODEL")) throw error;
      const users = schema.tables.flatMap((table) =>
        table.columns.filter((column) => column.type.kind === "enum" && column.type.name === name).map((column) => `"${table.name}"."${column.name}"`),
      );
      const quoted = `"${name.replace(/"/g, '""')}"`;
      throw new RetortError("RETORT_UNSUPPORTED", `${error.message} in the database${users.length ? ` (used by ${users.join(", ")})` : ""}: Retort's enumType() and migrations cannot declare it`, {
        hint: values.includes("")
          ? `Rename the empty label in the database (ALTER TYPE ${quoted} RENAME VALUE '' TO 'none'), then run the command again.`
          : `Change the type in the database (${error.hint ?? "see the message"}), then run the command again.`,
        details: { enum: name, values, columns: users },
      });
    }
  }
}
