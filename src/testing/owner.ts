/**
 * Who made a test database, written into its name: host, process and creation time. A later run
 * removes what a dead process left (same host, pid gone) and anything older than the age limit
 * (any host), without a registry to go stale.
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { isAlive } from "../dev/local-server.js";

export interface Owner {
  /** First 6 hex digits of the sha256 of the host name. */
  host: string;
  pid: number;
  /** Creation time, ms since the epoch. */
  created: number;
}

/** Leftovers of any host older than this are removed (a day: no test run lasts that long). */
export const LEFTOVER_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export const HOST = createHash("sha256").update(hostname()).digest("hex").slice(0, 6);

let sequence = 0;

/** `<stem>_r<host>_<pid>_<time>_<n>_test` (base 36): unique per call, at most 63 bytes for a stem of 30. */
export function ownedName(stem: string): string {
  return `${stem}_r${HOST}_${process.pid.toString(36)}_${Date.now().toString(36)}_${(sequence++).toString(36)}_test`;
}

const OWNED = /^(.+)_r([0-9a-f]{6})_([0-9a-z]+)_([0-9a-z]+)_([0-9a-z]+)_test$/;

/** The stem and owner of a name ownedName made, or undefined for any other name. */
export function parseOwnedName(name: string): { stem: string; owner: Owner } | undefined {
  const match = OWNED.exec(name);
  if (!match) return undefined;
  return { stem: match[1]!, owner: { host: match[2]!, pid: parseInt(match[3]!, 36), created: parseInt(match[4]!, 36) } };
}

/** A leftover: made on this host by a process that is gone, or older than maxAgeMs whatever made it. */
export function isLeftover(owner: Owner, now = Date.now(), maxAgeMs = LEFTOVER_MAX_AGE_MS): boolean {
  if (now - owner.created > maxAgeMs) return true;
  return owner.host === HOST && owner.pid !== process.pid && !isAlive(owner.pid);
}

/** A database name as a stem for test database names: lower-case letters, digits and _, `_test` taken off, 30 bytes at most. */
export function stemOf(name: string): string {
  const slug = name.toLowerCase().replace(/_test$/, "").replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 30);
  return /^[a-z_]/.test(slug) ? slug : `t_${slug}`.slice(0, 30);
}
