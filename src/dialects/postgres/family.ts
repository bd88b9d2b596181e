/** What the Postgres server and PGlite drivers share: error translation. */
import type { Schema } from "../../schema/snapshot.js";
import type { Driver } from "../driver.js";
import { translatePostgresError } from "./errors.js";

export function postgresFamilyParts(schema: Schema): Pick<Driver, "translateError"> {
  return {
    translateError: (error) => translatePostgresError(error, schema),
  };
}
