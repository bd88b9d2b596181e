/**
 * Every temp folder of a test run, made by the tests or by the CLI processes they start, goes
 * under one folder (TMPDIR, which os.tmpdir() reads), removed when the run ends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), "retort-tests-"));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
