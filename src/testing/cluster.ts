/**
 * A throwaway Postgres cluster for one test run: the local-server machinery (binaries found on the
 * machine, an unprivileged server user when run as root) on a RAM folder (/dev/shm) with
 * durability off (fsync, full_page_writes, synchronous_commit), where a template clone costs a
 * few milliseconds. `stop()` ends it and removes its folder; a cluster whose run crashed is
 * stopped and removed by the next one.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalServer } from "../dev/local-server.js";
import type { LoadedConfig } from "../env/config.js";
import { isLeftover, ownedName, parseOwnedName } from "./owner.js";
import { makeDirectory } from "../env/make-directory.js";

export interface TestClusterOptions {
  /** The project (for localServer.version and osUser); default: cwd, no config. */
  config?: LoadedConfig;
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Folder the cluster's folder goes in (default /dev/shm, else the temp folder). */
  parent?: string;
  /** Name of the URL's database (it is not created: test databases are made beside it). */
  database?: string;
}

export interface TestCluster {
  /** postgres://postgres@127.0.0.1:<port>/<database>: a test URL for createTestDatabase. */
  url: string;
  port: number;
  dataDirectory: string;
  stop(): Promise<void>;
}

function clusterParent(parent?: string): string {
  return parent ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function serverAt(loaded: LoadedConfig, root: string, port: number): LocalServer {
  const settings = { ...loaded.config.localServer, port, durable: false, database: "postgres" };
  return new LocalServer(loaded, settings, { root, data: join(root, "data"), log: join(root, "server.log") });
}

/** Stop and remove the clusters of dead runs under `parent`; returns their folders. */
export function removeLeftoverClusters(options: TestClusterOptions = {}): string[] {
  const parent = clusterParent(options.parent);
  const loaded = options.config ?? { config: {}, root: process.cwd() };
  const removed: string[] = [];
  for (const name of existsSync(parent) ? readdirSync(parent) : []) {
    const owned = name.startsWith("retort-cluster-") ? parseOwnedName(name.slice("retort-cluster-".length)) : undefined;
    if (!owned || !isLeftover(owned.owner)) continue;
    const root = join(parent, name);
    try {
      serverAt(loaded, root, 1).down();
    } catch {
      // not running, or half made: the folder goes either way
    }
    rmSync(root, { recursive: true, force: true });
    removed.push(root);
  }
  return removed;
}

/** Start a throwaway cluster (initdb, then the server); stop() it at the end of the run. */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  removeLeftoverClusters(options);
  const loaded = options.config ?? { config: {}, root: process.cwd() };
  const root = join(clusterParent(options.parent), `retort-cluster-${ownedName("c")}`);
  makeDirectory(root);
  const port = options.port ?? (await freePort());
  const server = serverAt(loaded, root, port);
  try {
    await server.up();
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    url: server.url(options.database ?? "retort_test"),
    port,
    dataDirectory: server.paths.data,
    async stop() {
      try {
        server.down();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
