/** examples/testing-vitest/node-test.ts under `node --test`: the helpers without vitest (here on SQLite copies). */
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { exec } from "./support.js";

it("the node:test example passes", async () => {
  const { stdout } = await exec(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", resolve("examples/testing-vitest/node-test.ts")], {
    env: { ...process.env, TEST_DATABASE_URL: "sqlite::memory:" },
    timeout: 60_000,
  });
  expect(stdout).toMatch(/^# pass 2$/m);
  expect(stdout).toMatch(/^# fail 0$/m);
});
