/**
 * Grandfather-father-son retention on real folders of backups with chosen timestamps: exactly
 * the newest backup of each of the last N days / ISO weeks / months stays, with its manifest;
 * other files are never touched; --dry-run deletes nothing.
 */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pruneBackups } from "../../src/backup/commands.js";
import { backupFileName, parseBackupName } from "../../src/backup/names.js";
import { isoWeek, planRetention } from "../../src/backup/retention.js";
import { failure } from "../runtime/project.js";

/** A folder with one backup (and manifest) per given UTC time, for database `app`. */
function folder(times: string[], database = "app"): { dir: string; names: Map<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "retort-prune-"));
  const names = new Map<string, string>();
  for (const time of times) {
    const name = backupFileName(database, ["abc123"], new Date(time), "pg_dump-custom");
    writeFileSync(join(dir, name), "dump");
    writeFileSync(join(dir, `${name}.manifest.json`), "{}");
    names.set(time, name);
  }
  return { dir, names };
}

const backupsIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".dump")).sort();

describe("ISO weeks", () => {
  it("start on Monday and belong to the year of their Thursday", () => {
    expect(isoWeek(new Date("2026-01-01T12:00:00Z"))).toBe("2026-W01"); // a Thursday
    expect(isoWeek(new Date("2025-12-29T00:00:00Z"))).toBe("2026-W01"); // Monday of that week
    expect(isoWeek(new Date("2025-12-28T23:59:59Z"))).toBe("2025-W52"); // the Sunday before
    expect(isoWeek(new Date("2021-01-03T10:00:00Z"))).toBe("2020-W53");
    expect(isoWeek(new Date("2026-03-02T00:00:00Z"))).toBe("2026-W10");
  });
});

describe("backup names", () => {
  it("carry the time to the millisecond, and names from before that (seconds) still parse", () => {
    const name = backupFileName("app", ["abc123"], new Date("2026-12-03T10:24:34.123Z"), "pg_dump-custom");
    expect(name).toBe("app--abc123--20261203T102434.123Z.dump");
    expect(parseBackupName(name)).toMatchObject({ database: "app", revision: "abc123", format: "pg_dump-custom", takenAt: new Date("2026-12-03T10:24:34.123Z") });
    expect(parseBackupName("app--abc123--20261203T102434Z.sqlite")).toMatchObject({ database: "app", format: "sqlite-file", takenAt: new Date("2026-12-03T10:24:34Z") });
    expect(parseBackupName("app--abc123--20261203T102434.12Z.dump")).toBeUndefined();
  });

  it("prune keeps the newest of a day across both forms", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-prune-forms-"));
    const old = "app--abc123--20260501T230000Z.dump";
    const newer = backupFileName("app", ["abc123"], new Date("2026-05-01T23:00:00.500Z"), "pg_dump-custom");
    for (const name of [old, newer]) {
      writeFileSync(join(dir, name), "dump");
      writeFileSync(join(dir, `${name}.manifest.json`), "{}");
    }
    await pruneBackups({ root: dir, location: dir, keepDaily: 1 });
    expect(backupsIn(dir)).toEqual([newer]);
  });
});

describe("backup prune", () => {
  it("keeps the newest backup of each of the last 3 days, 2 weeks and 2 months, and deletes the rest with their manifests", async () => {
    const times = [
      "2026-03-10T02:00:00Z", // Tue W11: newest overall
      "2026-03-10T01:00:00Z", // same day, older: goes
      "2026-03-09T02:00:00Z", // Mon W11
      "2026-03-07T02:00:00Z", // Sat W10 (no backup on the 8th: days without one do not count)
      "2026-03-06T02:00:00Z", // Fri W10: the 4th day, not kept daily; W10's newest is the 7th
      "2026-03-01T02:00:00Z", // Sun W09: weekly #3, not kept; March's oldest
      "2026-02-27T02:00:00Z", // Fri W09, February's newest: monthly #2
      "2026-02-03T02:00:00Z", // February, older: goes
      "2026-01-31T02:00:00Z", // January: monthly #3, not kept
    ];
    const { dir, names } = folder(times);
    writeFileSync(join(dir, "notes.txt"), "not a backup");
    writeFileSync(join(dir, "other--x--notatime.dump"), "not a Retort name");
    const result = await pruneBackups({ root: dir, location: dir, keepDaily: 3, keepWeekly: 2, keepMonthly: 2 });

    const kept = ["2026-03-10T02:00:00Z", "2026-03-09T02:00:00Z", "2026-03-07T02:00:00Z", "2026-02-27T02:00:00Z"].map((t) => names.get(t)!);
    expect(result.kept.map((k) => k.file)).toEqual(kept);
    expect(result.kept[0]!.reasons).toEqual(["daily 2026-03-10", "weekly 2026-W11", "monthly 2026-03"]);
    expect(result.kept[2]!.reasons).toEqual(["daily 2026-03-07", "weekly 2026-W10"]);
    expect(result.kept[3]!.reasons).toEqual(["monthly 2026-02"]);
    expect(result.removed.sort()).toEqual(times.filter((t) => !kept.includes(names.get(t)!)).map((t) => names.get(t)!).sort());
    expect(readdirSync(dir).sort()).toEqual([...kept.flatMap((k) => [k, `${k}.manifest.json`]), "notes.txt", "other--x--notatime.dump"].sort());
  });

  it("prunes each database on its own", async () => {
    const { dir } = folder(["2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z"], "app");
    const other = folder(["2026-04-01T00:00:00Z"], "billing");
    for (const f of readdirSync(other.dir)) writeFileSync(join(dir, f), "x");
    await pruneBackups({ root: dir, location: dir, keepDaily: 1 });
    expect(backupsIn(dir)).toEqual([backupFileName("app", ["abc123"], new Date("2026-05-02T00:00:00Z"), "pg_dump-custom"), backupFileName("billing", ["abc123"], new Date("2026-04-01T00:00:00Z"), "pg_dump-custom")]);
  });

  it("--dry-run lists and deletes nothing; no keep option at all is refused", async () => {
    const { dir } = folder(["2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", "2026-05-03T00:00:00Z"]);
    const before = readdirSync(dir).sort();
    const dry = await pruneBackups({ root: dir, location: dir, keepDaily: 1, dryRun: true });
    expect(dry.removed).toHaveLength(2);
    expect(readdirSync(dir).sort()).toEqual(before);
    const refused = await failure(pruneBackups({ root: dir, location: dir }));
    expect(refused.code).toBe("RETORT_USAGE");
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("a year of nightly backups keeps 7 + 4 + 6 distinct periods' newest, no more", () => {
    const start = Date.UTC(2026, 0, 1, 3);
    const nightly = Array.from({ length: 365 }, (_, i) => ({ file: `n${i}`, database: "app", revision: "r", takenAt: new Date(start + i * 86_400_000), format: "sqlite-file" as const }));
    const plan = planRetention(nightly, { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 });
    // Dec 31 (a Thursday, ISO week 2026-W53) is the newest of its day, week and month. The 7 days
    // (Dec 25–31) already hold the newest of W53 and W52 (Sunday Dec 27), so the weekly rule adds
    // the Sundays of W51 and W50; the monthly rule adds the last day of Nov, Oct, Sep, Aug, Jul.
    const newest = nightly.at(-1)!.takenAt;
    expect(newest.toISOString().slice(0, 10)).toBe("2026-12-31");
    const keptDays = plan.keep.map((k) => k.takenAt.toISOString().slice(0, 10));
    expect(keptDays).toEqual([
      "2026-12-31", "2026-12-30", "2026-12-29", "2026-12-28", "2026-12-27", "2026-12-26", "2026-12-25",
      "2026-12-20", "2026-12-13",
      "2026-11-30", "2026-10-31", "2026-09-30", "2026-08-31", "2026-07-31",
    ]);
    expect(plan.remove).toHaveLength(365 - 14);
  });
});
