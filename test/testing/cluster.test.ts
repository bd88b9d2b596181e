/**
 * The throwaway test cluster: a Postgres server of this machine's binaries on a RAM folder with
 * durability off, serving test databases; stop() ends it and removes its folder; a cluster whose
 * run was killed is stopped and removed by the next start. Skipped with a notice without binaries.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findPostgresBinaries } from "../../src/dev/postgres-binaries.js";
import { createTestDatabase, removeLeftoverClusters, startTestCluster } from "../../src/testing/index.js";
import { notesProject, runScript, TESTING_INDEX } from "./support.js";

let haveBinaries = true;
try {
  findPostgresBinaries(process.cwd());
} catch {
  haveBinaries = false;
  if (process.env.CI) throw new Error("CI needs Postgres server binaries (initdb, pg_ctl) for the test-cluster tests");
  console.warn("\n[retort tests] NOTICE: no Postgres server binaries on this machine; test-cluster tests are SKIPPED.\n");
}

describe.skipIf(!haveBinaries)("the throwaway test cluster", () => {
  it("runs in RAM with durability off, serves test databases, and is gone after stop()", async () => {
    const cluster = await startTestCluster();
    try {
      expect(cluster.dataDirectory.startsWith("/dev/shm/") || !existsSync("/dev/shm")).toBe(true);
      const db = await createTestDatabase({ config: notesProject().config, url: cluster.url });
      try {
        const settings = await db.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit') ORDER BY name");
        expect(settings.rows).toEqual([
          { name: "fsync", setting: "off" },
          { name: "full_page_writes", setting: "off" },
          { name: "synchronous_commit", setting: "off" },
        ]);
        expect((await db.query("SELECT version_num FROM retort_version")).rows).toEqual([{ version_num: "b2" }]);
      } finally {
        await db.drop();
      }
    } finally {
      await cluster.stop();
    }
    expect(existsSync(cluster.dataDirectory)).toBe(false);
  });

  it("a cluster whose run was killed is stopped and removed by the next run", async () => {
    const out = await runScript(`
      import { startTestCluster } from ${JSON.stringify(TESTING_INDEX)};
      const cluster = await startTestCluster();
      console.log(JSON.stringify({ data: cluster.dataDirectory, port: cluster.port }));
      process.kill(process.pid, "SIGKILL");
    `).catch((error: { stdout?: string }) => error.stdout ?? "");
    const { data, port } = JSON.parse(out.trim().split("\n").at(-1)!) as { data: string; port: number };
    expect(existsSync(data)).toBe(true);
    const { portAnswers } = await import("../../src/dev/port-holder.js");
    expect(await portAnswers(port)).toBe(true);
    const folder = data.replace(/\/data$/, "");
    expect(removeLeftoverClusters()).toContain(folder);
    expect(existsSync(folder)).toBe(false);
    expect(await portAnswers(port)).toBe(false);
  });
});
