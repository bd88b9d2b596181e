import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const driver = fileURLToPath(new URL("../../src/dialects/postgres/driver.ts", import.meta.url));

describe("loading the Postgres driver", () => {
  it("does not load Node's fetch stack (pg's Workers probe) and leaves no navigator behind", () => {
    const script = `
      const before = typeof globalThis.navigator;
      await import(${JSON.stringify(driver)});
      const loaded = process.moduleLoadList.filter((m) => /undici|http2/.test(m));
      console.log(JSON.stringify({ before, after: typeof globalThis.navigator, loaded }));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    const result = JSON.parse(out.trim().split("\n").pop()!) as { before: string; after: string; loaded: string[] };
    expect(result.after).toBe(result.before);
    expect(result.loaded).toEqual([]);
  });
});
