/**
 * Grandfather-father-son retention, the rule object-storage lifecycle policies cannot express:
 *
 * - backups are grouped by database (the name's first part); each group is pruned on its own;
 * - `keepDaily` N keeps the newest backup of each of the N most recent UTC days that have a
 *   backup (days without one do not count); `keepWeekly` the same per ISO week (Monday to
 *   Sunday, UTC), `keepMonthly` per calendar month (UTC);
 * - a backup kept by any of the three rules is kept; every other backup of the group is deleted;
 * - the time is the one in the file name (when the backup was taken), never an upload time;
 * - files whose names are not Retort backup names are never touched.
 */
import type { BackupName } from "./names.js";

export interface RetentionPolicy {
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

export interface RetentionPlan {
  keep: Array<BackupName & { reasons: string[] }>;
  remove: BackupName[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const month = (d: Date) => d.toISOString().slice(0, 7);

/** ISO 8601 week ("2026-W01"): weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

export function planRetention(backups: readonly BackupName[], policy: RetentionPolicy): RetentionPlan {
  const rules: Array<[string, number, (d: Date) => string]> = [
    ["daily", policy.keepDaily ?? 0, day],
    ["weekly", policy.keepWeekly ?? 0, isoWeek],
    ["monthly", policy.keepMonthly ?? 0, month],
  ];
  const groups = new Map<string, BackupName[]>();
  for (const backup of backups) groups.set(backup.database, [...(groups.get(backup.database) ?? []), backup]);
  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const group of groups.values()) {
    const newestFirst = [...group].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || b.file.localeCompare(a.file));
    const reasons = new Map<string, string[]>();
    for (const [rule, count, period] of rules) {
      const seen = new Set<string>();
      for (const backup of newestFirst) {
        if (seen.size >= count) break;
        const key = period(backup.takenAt);
        if (seen.has(key)) continue;
        seen.add(key); // the first one met in a period is its newest
        reasons.set(backup.file, [...(reasons.get(backup.file) ?? []), `${rule} ${key}`]);
      }
    }
    for (const backup of newestFirst) {
      const why = reasons.get(backup.file);
      if (why) plan.keep.push({ ...backup, reasons: why });
      else plan.remove.push(backup);
    }
  }
  return plan;
}
