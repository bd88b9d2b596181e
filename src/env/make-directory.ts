/**
 * `mkdir -p` that always ends. Node's recursive mkdir retries forever where the kernel answers
 * "no such file" for a child of a folder that exists (/proc, /sys): `--out /proc/x` hung. Here
 * each missing level is created once, and a failure is a RETORT_FILE_ACCESS error naming the path.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileAccessError } from "../errors.js";

export function makeDirectory(dir: string, options: { mode?: number } = {}): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); ) {
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  try {
    for (const folder of missing.reverse()) {
      try {
        mkdirSync(folder, options.mode === undefined ? undefined : { mode: options.mode });
      } catch (error) {
        // Made meanwhile by another process: fine when it is a folder.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !statSync(folder).isDirectory()) throw error;
      }
    }
    if (missing.length === 0 && !statSync(dir).isDirectory()) {
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: "ENOTDIR", syscall: "mkdir", path: dir });
    }
  } catch (error) {
    throw fileAccessError(error) ?? error;
  }
}
