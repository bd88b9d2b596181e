/**
 * `inet` values in the text form Postgres prints them, so SQLite (which stores the text) reads
 * back what Postgres and PGlite do, and defaults compare equal however they were written:
 * IPv4 dotted quads, IPv6 in lowercase with the longest run of two or more zero groups as "::"
 * (the first of equal runs) and an IPv4 tail for mapped (::ffff:a.b.c.d) and compatible (::a.b.c.d)
 * addresses; the netmask length only when it is not the whole address (/32, /128).
 */
import { isIPv4, isIPv6 } from "node:net";

/** The canonical text of an inet value, or undefined when the text is not one. */
export function canonicalInet(text: string): string | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  if (isIPv4(address)) return withBits(address.split(".").map(Number).join("."), bitsText, 32);
  if (!isIPv6(address) || address.includes("%")) return undefined;
  return withBits(formatIPv6(ipv6Groups(address)), bitsText, 128);
}

function withBits(address: string, bitsText: string | undefined, all: number): string | undefined {
  if (bitsText === undefined) return address;
  const bits = Number(bitsText);
  if (bits > all) return undefined;
  return bits === all ? address : `${address}/${bits}`;
}

/** The eight 16-bit groups of a valid IPv6 address (an IPv4 tail gives the last two). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const part = (side: string) => (side === "" ? [] : side.split(":").map((group) => parseInt(group, 16)));
  if (rest === undefined) return part(head);
  const left = part(head);
  const right = part(rest);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function formatIPv6(groups: number[]): string {
  // The longest run of zero groups (two or more; the first of equal ones) becomes "::".
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > best.length) best = { start: i, length: end - i };
    i = end;
  }
  if (best.length < 2) best = { start: -1, length: 0 };
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i >= best.start && i < best.start + best.length) {
      if (i === best.start) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    const ipv4Tail = i === 6 && best.start === 0 && (best.length === 6 || (best.length === 5 && groups[5] === 0xffff));
    if (ipv4Tail) return `${out}${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
    out += groups[i]!.toString(16);
  }
  return best.start + best.length === 8 ? `${out}:` : out;
}
