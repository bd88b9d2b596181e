/**
 * The `pg` module, loaded so that it skips its Cloudflare Workers probe on Node 20.
 *
 * pg decides at load time whether it runs in a Worker: where `navigator` is missing (Node 20; Node
 * 21+ defines it) it builds a `new Response()`, which loads Node's fetch with http, http2 and tls:
 * 30-100 ms of every process that opens a Postgres URL, `retort current` included. For the moment
 * of the require, `navigator` reads as it does on Node 21+, then it is removed again, so the
 * application never sees it.
 */
import { createRequire } from "node:module";
import type PgModule from "pg";

function loadPg(): typeof PgModule {
  const require = createRequire(import.meta.url);
  const global = globalThis as { navigator?: unknown };
  if (global.navigator !== undefined) return require("pg") as typeof PgModule;
  global.navigator = { userAgent: `Node.js/${process.versions.node.split(".")[0]}` };
  try {
    return require("pg") as typeof PgModule;
  } finally {
    delete global.navigator;
  }
}

const pg: typeof PgModule = loadPg();
export default pg;
