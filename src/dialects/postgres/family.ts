/** What the Postgres server and PGlite drivers share: Kysely's Postgres flavour and error translation. */
import { PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import type { Schema } from "../../schema/snapshot.js";
import type { Driver } from "../driver.js";
import { translatePostgresError } from "./errors.js";

export function postgresFamilyParts(schema: Schema): Pick<Driver, "translateError" | "createAdapter" | "createQueryCompiler" | "createIntrospector"> {
  return {
    translateError: (error) => translatePostgresError(error, schema),
    createAdapter: () => new PostgresAdapter(),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  };
}
