/** Branch databases: names from real git repositories (branches, worktrees, detached HEAD, odd names). */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  branchDatabaseName,
  branchPgliteDirectory,
  branchSlug,
  branchSqliteFile,
  localBranches,
  parentBranch,
  readGitState,
  branchOrCommit,
} from "../../src/env/branch.js";

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } }).trim();
}

function repository(): string {
  const dir = mkdtempSync(join(tmpdir(), "branch-"));
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(join(dir, "README"), "x");
  git(dir, "add", "README");
  git(dir, "commit", "-q", "-m", "first");
  return dir;
}

describe("branch names", () => {
  it.each([
    ["feature/login", "app_feature_login"],
    ["Feature/LOGIN-Page", "app_feature_login_page"],
    ["fix/crème-brûlée", "app_fix_creme_brulee"],
    ["release/2026.12", "app_release_2026_12"],
    ["--weird--", "app_weird"],
  ])("%s → %s", (branch, expected) => {
    expect(branchDatabaseName("app", branch)).toBe(expected);
  });

  it("a name with nothing ASCII gets a stable hash", () => {
    const a = branchSlug("功能/登录");
    expect(a).toMatch(/^b_[0-9a-f]{8}$/);
    expect(branchSlug("功能/登录")).toBe(a);
    expect(branchSlug("功能/注册")).not.toBe(a);
  });

  it("long names are cut to 63 bytes with a hash of the whole name, so two long names stay apart", () => {
    const long1 = `feature/${"very-long-description-".repeat(5)}one`;
    const long2 = `feature/${"very-long-description-".repeat(5)}two`;
    const a = branchDatabaseName("my_application", long1);
    const b = branchDatabaseName("my_application", long2);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).toMatch(/^my_application_feature_very_long_description_.*_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(branchDatabaseName("my_application", long1)).toBe(a);
  });

  it("PGlite directories and SQLite files per branch", () => {
    expect(branchPgliteDirectory("/p", "feature/login")).toBe("/p/.retort/pglite/feature_login");
    expect(branchSqliteFile("data/app.db", "feature/login")).toBe("data/app.feature_login.db");
    expect(branchSqliteFile("app", "main")).toBe("app.main.sqlite3");
  });
});

describe("git state from the repository's files", () => {
  it("the checked-out branch, its parent from the reflog, and every local branch", () => {
    const dir = repository();
    expect(readGitState(dir)?.branch).toBe("main");
    git(dir, "checkout", "-q", "-b", "feature/login");
    const state = readGitState(join(dir))!;
    expect(state.branch).toBe("feature/login");
    expect(parentBranch(state, "feature/login")).toBe("main");
    git(dir, "branch", "topic/other", "main");
    expect(parentBranch(readGitState(dir)!, "topic/other")).toBe("main");
    git(dir, "pack-refs", "--all");
    git(dir, "branch", "loose");
    expect([...localBranches(readGitState(dir)!)].sort()).toEqual(["feature/login", "loose", "main", "topic/other"]);
  });

  it("a linked worktree has its own branch; a detached HEAD is named by its commit", () => {
    const dir = repository();
    const tree = join(mkdtempSync(join(tmpdir(), "wt-")), "tree");
    git(dir, "worktree", "add", "-q", "-b", "hotfix/urgent", tree);
    expect(readGitState(join(tree))?.branch).toBe("hotfix/urgent");
    expect(readGitState(dir)?.branch).toBe("main");
    expect(localBranches(readGitState(tree)!).has("main")).toBe(true);
    const sha = git(dir, "rev-parse", "HEAD");
    git(dir, "checkout", "-q", "--detach");
    const detached = readGitState(dir)!;
    expect(detached.branch).toBeUndefined();
    expect(branchOrCommit(detached)).toBe(`detached_${sha.slice(0, 12)}`);
  });

  it("outside a repository there is no state", () => {
    expect(readGitState(mkdtempSync(join(tmpdir(), "no-git-")))).toBeUndefined();
  });
});
