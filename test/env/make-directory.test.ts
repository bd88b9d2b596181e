/**
 * makeDirectory: `mkdir -p` that always ends, and says what went wrong where (src/env/make-directory.ts).
 */
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeDirectory } from "../../src/env/make-directory.js";
import { failure } from "../runtime/project.js";

describe("makeDirectory", () => {
  const root = mkdtempSync(join(tmpdir(), "retort-mkdir-"));

  it("creates every missing level, with the mode asked for, and accepts a folder that is there", () => {
    const deep = join(root, "a", "b", "c");
    makeDirectory(deep, { mode: 0o700 });
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(root, "a")).mode & 0o777).toBe(0o700);
    makeDirectory(deep);
    makeDirectory(join(root, "a"));
  });

  it("refuses a path through a file, or a file where the folder should be, naming the path", async () => {
    const file = join(root, "file");
    writeFileSync(file, "x");
    const through = await failure((async () => makeDirectory(join(file, "sub")))());
    expect(through).toMatchObject({ code: "RETORT_FILE_ACCESS", details: { path: join(file, "sub"), errno: "ENOTDIR" } });
    expect(through.message).toBe(`Cannot create the folder ${join(file, "sub")}: a part of the path is a file, not a folder (ENOTDIR).`);
    const onFile = await failure((async () => makeDirectory(file))());
    expect(onFile).toMatchObject({ code: "RETORT_FILE_ACCESS", details: { path: file, errno: "ENOTDIR" } });
  });

  it.skipIf(!existsSync("/proc/self"))("ends under /proc, where the kernel answers ENOENT below a folder that exists", async () => {
    const error = await failure((async () => makeDirectory("/proc/retort-no-such/a/b"))());
    expect(error).toMatchObject({ code: "RETORT_FILE_ACCESS", details: { path: "/proc/retort-no-such", errno: "ENOENT" } });
  });
});
