/** What the audit tests import besides the models. */
import { compareSchemas } from "../../src/autogenerate/index.js";
import { Op } from "../../src/operations/types.js";
import { EMPTY_SCHEMA, type Schema } from "../../src/schema/snapshot.js";

export { auditLog, connect, createAll, isRetortError, schemaFromModels, t, table } from "../../src/index.js";

/** The operations autogenerate would write to go from an empty database to `schema`, one line each. */
export function compareSchemasForTest(schema: Schema): string {
  return compareSchemas(EMPTY_SCHEMA, schema, { dialect: "postgres" }).ops.map((op) => Op.describe(op).toLowerCase()).join("\n");
}
