/**
 * The seeded random generator seeds use: the same seed gives the same values in every process
 * and on every machine (no Math.random, no clock). Each seed file gets its own stream, seeded
 * from its file name, so adding or changing one seed file does not change another's data.
 *
 * The generator is sfc32 (small, fast, passes PractRand to large sizes), seeded with the
 * SHA-256 of the seed text.
 */
import { createHash } from "node:crypto";

const FIRST_NAMES = ["Ada", "Alan", "Ana", "Bea", "Carl", "Chen", "Dana", "Eli", "Emma", "Farah", "Grace", "Hugo", "Ines", "Ivan", "Jade", "Jon", "Kai", "Lena", "Liam", "Mara", "Mia", "Nils", "Noor", "Omar", "Paula", "Quinn", "Rosa", "Sam", "Tara", "Theo", "Uma", "Vera", "Wes", "Yara", "Zoe"];
const LAST_NAMES = ["Abbott", "Bauer", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen", "Khan", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Quist", "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang"];
const WORDS = ["alpha", "amber", "anchor", "apple", "arrow", "atlas", "birch", "bloom", "breeze", "cedar", "cobalt", "comet", "coral", "delta", "drift", "ember", "fable", "fern", "flint", "frost", "glade", "harbor", "hazel", "indigo", "iris", "jade", "juniper", "kite", "lagoon", "lark", "lumen", "maple", "meadow", "mesa", "nova", "oak", "onyx", "orbit", "pebble", "pine", "quartz", "quill", "raven", "ridge", "river", "sage", "shale", "sierra", "spruce", "stone", "summit", "thistle", "tide", "umber", "vale", "willow", "wren", "zephyr"];
const DOMAINS = ["example.com", "example.org", "example.net"];
const ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyz0123456789";

export interface SeedRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer from min to max, both included. */
  int(min: number, max: number): number;
  /** A float in [min, max). */
  float(min: number, max: number): number;
  /** true with the given probability (default 0.5). */
  bool(probability?: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[];
  /** `count` different items, in random order. */
  sample<T>(items: readonly T[], count: number): T[];
  /** A version-4-shaped UUID (deterministic, so not for secrets). */
  uuid(): string;
  /** `length` characters from `alphabet` (default a-z0-9). */
  string(length: number, alphabet?: string): string;
  word(): string;
  words(count: number): string;
  firstName(): string;
  lastName(): string;
  /** "First Last". */
  name(): string;
  /** An address at example.com/.org/.net (reserved domains: mail never leaves), from a name if given. */
  email(name?: string): string;
  /** A time in [from, to), whole milliseconds. */
  date(from: Date, to: Date): Date;
  /** An independent stream for `label`: drawing from it leaves this one as it was. */
  fork(label: string): SeedRandom;
}

/** The generator for `seed` (a seed file's name, or any text). */
export function seededRandom(seed: string): SeedRandom {
  const state = new Uint32Array(4);
  const digest = createHash("sha256").update(seed).digest();
  for (let i = 0; i < 4; i++) state[i] = digest.readUInt32LE(i * 4);
  const next = (): number => {
    // sfc32: a, b, c, counter.
    const t = (((state[0]! + state[1]!) >>> 0) + state[3]!) >>> 0;
    state[3] = (state[3]! + 1) >>> 0;
    state[0] = state[1]! ^ (state[1]! >>> 9);
    state[1] = (state[2]! + (state[2]! << 3)) >>> 0;
    state[2] = ((state[2]! << 21) | (state[2]! >>> 11)) >>> 0;
    state[2] = (state[2]! + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // mix the seed in
  const int = (min: number, max: number): number => {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) throw new RangeError(`random.int(${min}, ${max}): give integers with min <= max`);
    return min + Math.floor(next() * (max - min + 1));
  };
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new RangeError("random.pick(): the list is empty");
    return items[Math.floor(next() * items.length)]!;
  };
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const hex = (digits: number) => {
    let out = "";
    for (let i = 0; i < digits; i++) out += Math.floor(next() * 16).toString(16);
    return out;
  };
  const random: SeedRandom = {
    next,
    int,
    float: (min, max) => min + next() * (max - min),
    bool: (probability = 0.5) => next() < probability,
    pick,
    shuffle,
    sample: (items, count) => shuffle(items).slice(0, count),
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(next() * 4)]}${hex(3)}-${hex(12)}`,
    string: (length, alphabet = ALPHANUMERIC) => {
      let out = "";
      for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
      return out;
    },
    word: () => pick(WORDS),
    words: (count) => Array.from({ length: count }, () => pick(WORDS)).join(" "),
    firstName: () => pick(FIRST_NAMES),
    lastName: () => pick(LAST_NAMES),
    name: () => `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`,
    email: (name) => {
      const local = (name ?? `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`).toLowerCase().replace(/[^a-z0-9]+/g, ".").replace(/^\.|\.$/g, "");
      return `${local}.${int(1, 999)}@${pick(DOMAINS)}`;
    },
    date: (from, to) => new Date(from.getTime() + Math.floor(next() * (to.getTime() - from.getTime()))),
    fork: (label) => seededRandom(`${seed}\u0000${label}`),
  };
  return random;
}
