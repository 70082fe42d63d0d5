/**
 * Reads IP addresses written as text into their bytes in network order, accepting exactly what
 * glibc's inet_pton accepts: IPv4 as four dotted decimal octets (no leading zeros), IPv6 in the
 * forms of RFC 4291 section 2.2 (hex groups, one "::", a dotted IPv4 tail), no zone index.
 */

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;

/** The 4 bytes of a dotted-quad IPv4 address, or undefined when `text` is not one. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== IPV4_BYTES) return undefined;
  const out = new Uint8Array(IPV4_BYTES);
  for (let i = 0; i < IPV4_BYTES; i++) {
    const part = parts[i];
    // inet_pton refuses "01": a leading zero is allowed only as the whole octet.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

/** The 16 bytes of an IPv6 address, or undefined when `text` is not one. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  // A dotted IPv4 group may only end the text.
  const all = [...head, ...tail];
  const last = halves.length === 2 ? tail : head;
  if (all.some((group) => group.length === IPV4_BYTES && group !== last.at(-1))) return undefined;
  const bytes = all.reduce((sum, group) => sum + group.length, 0);
  if (halves.length === 1 ? bytes !== IPV6_BYTES : bytes >= IPV6_BYTES) return undefined;
  const out = new Uint8Array(IPV6_BYTES);
  let at = 0;
  for (const group of head) {
    out.set(group, at);
    at += group.length;
  }
  at = IPV6_BYTES - tail.reduce((sum, group) => sum + group.length, 0);
  for (const group of tail) {
    out.set(group, at);
    at += group.length;
  }
  return out;
}

/**
 * The colon-separated groups of one side of "::": each 1 to 4 hex digits (2 bytes), or a
 * dotted IPv4 address (4 bytes). An empty side has no groups; an empty group is an error.
 */
function groupsOf(side: string): Uint8Array[] | undefined {
  if (side === "") return [];
  const groups: Uint8Array[] = [];
  for (const group of side.split(":")) {
    if (/^[0-9a-fA-F]{1,4}$/.test(group)) {
      const value = parseInt(group, 16);
      groups.push(Uint8Array.of(value >> 8, value & 0xff));
    } else {
      const ipv4 = group.includes(".") ? parseIPv4(group) : undefined;
      if (ipv4 === undefined) return undefined;
      groups.push(ipv4);
    }
  }
  return groups;
}

/** True when the first `prefixLength` bits of `a` and `b` (same length) are equal. */
export function samePrefix(a: Uint8Array, b: Uint8Array, prefixLength: number): boolean {
  let bits = prefixLength;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}
