/**
 * `retort-db/testing/vitest`: the vitest integration.
 *
 * - `testDatabaseSetup(options)` is a globalSetup: it starts the throwaway cluster when asked,
 *   removes leftovers of crashed runs and builds the template once, before any worker starts,
 *   and hands the URL to the workers (`inject`). It stops the cluster at the end of the run.
 * - `databaseTest(options)` is vitest's `test` with fixtures: `database`, the file's own
 *   database (a clone, made on first use and dropped after the file), and `db`, a transaction
 *   in it rolled back after each test. Each worker's files get their own clones.
 * - `keepOnFailure`: a failing test's transaction is committed instead and its database kept
 *   (URL printed); the file's later tests get a new clone.
 */
import { inject, test as base } from "vitest";
import type { Database } from "../db/database.js";
import { startTestCluster, type TestClusterOptions } from "./cluster.js";
import { createTestDatabase, prepareTestTemplate, type TestDatabase, type TestDatabaseOptions } from "./index.js";
import { inTestTransaction } from "./rollback.js";

/** The key the globalSetup provides the test URL under. */
export const PROVIDED_URL = "retortTestDatabaseUrl";

declare module "vitest" {
  interface ProvidedContext {
    retortTestDatabaseUrl: string;
  }
}

export interface SetupOptions<S> extends TestDatabaseOptions<S> {
  /** Start a throwaway Postgres cluster for the run (RAM folder, durability off) and make test databases there. */
  cluster?: boolean | TestClusterOptions;
}

/** A vitest globalSetup: `export default testDatabaseSetup({ … })` in the file vitest.config's globalSetup names. */
export function testDatabaseSetup<S>(options: SetupOptions<S> = {}) {
  return async function setup(project: { provide(key: typeof PROVIDED_URL, value: string): void }): Promise<() => Promise<void>> {
    const { cluster: clusterOption, ...rest } = options;
    const cluster = clusterOption ? await startTestCluster(typeof clusterOption === "object" ? clusterOption : {}) : undefined;
    try {
      const prepared = await prepareTestTemplate({ ...rest, ...(cluster ? { url: cluster.url } : {}) });
      project.provide(PROVIDED_URL, prepared.url);
    } catch (error) {
      await cluster?.stop();
      throw error;
    }
    return async () => {
      await cluster?.stop();
    };
  };
}

export interface FixtureOptions<S> extends TestDatabaseOptions<S> {
  /** Keep a failing test's database (its writes committed) and print its URL. */
  keepOnFailure?: boolean;
}

/** The file's test database: made on first use, replaced after one was kept. */
export interface FileDatabaseSlot<S> {
  current(): Promise<TestDatabase<S>>;
  keep(): Promise<void>;
  drop(): Promise<void>;
}

class FileDatabase<S extends Record<string, unknown>> implements FileDatabaseSlot<S> {
  private pending: Promise<TestDatabase<S>> | undefined;

  constructor(private readonly options: TestDatabaseOptions<S>) {}

  current(): Promise<TestDatabase<S>> {
    this.pending ??= createTestDatabase(this.options);
    return this.pending;
  }

  /** Keep the current one for a look; the next test gets a new clone. */
  async keep(): Promise<void> {
    const db = await this.pending;
    this.pending = undefined;
    await db?.keep();
  }

  async drop(): Promise<void> {
    const db = await this.pending;
    this.pending = undefined;
    await db?.drop();
  }
}

/** The globalSetup's URL when there is one (a run without it resolves the URL as createTestDatabase does). */
function providedUrl(): string | undefined {
  try {
    return inject(PROVIDED_URL) || undefined;
  } catch {
    return undefined;
  }
}

export interface DatabaseFixtures<S> {
  /** The file's own database (a clone at the migrations' head); writes stay for the file's later tests. */
  database: TestDatabase<S>;
  /** A transaction in the file's database, rolled back after the test. */
  db: Database<S>;
}

/** vitest's `test` with the `database` and `db` fixtures. */
export function databaseTest<S extends Record<string, unknown> = Record<string, unknown>>(options: FixtureOptions<S> = {}) {
  const { keepOnFailure = false, ...rest } = options;
  return base.extend<DatabaseFixtures<S> & { retortFile: FileDatabaseSlot<S> }>({
    retortFile: [
      // eslint-disable-next-line no-empty-pattern
      async ({}, use) => {
        const url = rest.url ?? providedUrl();
        const file = new FileDatabase<S>({ ...rest, ...(url ? { url } : {}) });
        try {
          await use(file);
        } finally {
          await file.drop();
        }
      },
      { scope: "file" },
    ],
    database: async ({ retortFile, task }, use) => {
      await use(await retortFile.current());
      if (keepOnFailure && task.result?.state === "fail") await retortFile.keep();
    },
    db: async ({ retortFile, task }, use) => {
      const database = await retortFile.current();
      const failed = () => task.result?.state === "fail";
      await inTestTransaction(database, (tx) => use(tx), () => keepOnFailure && failed());
      if (keepOnFailure && failed()) await retortFile.keep();
    },
  });
}
