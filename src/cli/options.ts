/** Options every command shares: the global flags, and how they become the library's CommandOptions. */
import type { CommandOptions } from "../runtime/api.js";
import type { Dialect } from "../schema/snapshot.js";
import { stderrColors } from "./colors.js";
import type { Output } from "./commands.js";

export interface GlobalOptions {
  url?: string;
  config?: string;
  env?: string;
  json?: boolean;
  quiet?: boolean;
}

export function commandOptions(globals: GlobalOptions, out: Output): CommandOptions {
  return {
    ...(globals.config ? { config: globals.config } : {}),
    ...(globals.url ? { url: globals.url } : {}),
    ...(globals.env ? { env: globals.env } : {}),
    onProgress: (event) => {
      if (!globals.json && !globals.quiet) {
        process.stderr.write(`${stderrColors.dim(`[${event.index}/${event.total}]`)} ${event.direction === "up" ? "upgrade" : "downgrade"} ${event.revision} ${stderrColors.dim(event.message)}\n`);
      }
    },
    onWarning: (message) => out.warn(message),
  };
}


export interface DiffFlags {
  dialect?: Dialect;
  verify?: boolean;
  renameColumn?: string[];
  renameTable?: string[];
  renameEnumValue?: string[];
  notRename?: string[];
  hints?: string;
  using?: string[];
  recreate?: string[];
}
