/**
 * The ip filter's rules (man nbdkit-ip-filter): parses `allow=`/`deny=` lists as nbdkit 1.32.5
 * does, and decides whether a peer may connect: allowed if any allow rule matches, else denied
 * if any deny rule matches, else allowed. It never sees a socket, only a PeerAddress.
 */

import { parseInt64, parseUnsigned } from "../api/parse-integer.ts";
import { ConfigError } from "../api/errors.ts";
import type { PeerAddress } from "../io.ts";
import { parseIPv4, parseIPv6, samePrefix } from "../api/ip-address.ts";

export type Rule =
  /** all, any: every client. */
  | { readonly kind: "any" }
  /** allipv4 / anyipv4, allipv6 / anyipv6, allunix / anyunix, allvsock / anyvsock. */
  | { readonly kind: "anyipv4" | "anyipv6" | "anyunix" | "anyvsock" }
  /** A.B.C.D[/NN] or an IPv6 address[/NN]: the first `prefixLength` bits must match. */
  | { readonly kind: "ipv4" | "ipv6"; readonly bytes: Uint8Array; readonly prefixLength: number }
  /** vsock-cid:CID, vsock-port:PORT. */
  | { readonly kind: "vsock-cid" | "vsock-port"; readonly id: bigint };

/** Keywords, matched case-insensitively, and the rule each one means. */
const KEYWORDS: Readonly<Record<string, Rule["kind"]>> = {
  all: "any",
  any: "any",
  allipv4: "anyipv4",
  anyipv4: "anyipv4",
  allipv6: "anyipv6",
  anyipv6: "anyipv6",
  allunix: "anyunix",
  anyunix: "anyunix",
  allvsock: "anyvsock",
  anyvsock: "anyvsock",
};

/** nbdkit's own limit on a prefix length's text before it reads the number. */
const MAX_PREFIX_TEXT = 32;
const UINT32_MAX = 0xffff_ffffn;

/**
 * The rules of one `allow=` or `deny=` value: a comma-separated list, a trailing comma allowed,
 * an empty entry refused. `param` ("allow" or "deny") names the parameter in messages.
 */
export function parseRules(param: string, value: string): Rule[] {
  const entries = value.split(",");
  if (entries.at(-1) === "") entries.pop(); // "a," is one rule; "" is none
  return entries.map((entry) => {
    if (entry === "") throw new ConfigError(`${param}: empty entry in rule list`);
    return parseRule(param, entry);
  });
}

function parseRule(param: string, entry: string): Rule {
  const keyword = KEYWORDS[entry.toLowerCase()];
  if (keyword !== undefined) return { kind: keyword } as Rule;
  const colon = entry.indexOf(":");
  const prefix = colon < 0 ? "" : entry.slice(0, colon + 1).toLowerCase();
  if (prefix === "pid:" || prefix === "uid:" || prefix === "gid:") {
    // nbdkit asks the kernel for the Unix peer's credentials (SO_PEERCRED); no JavaScript
    // runtime exposes them, and a rule that can never match would fail open under deny=.
    throw new ConfigError(
      `cannot use rule ${param}=${entry}: the credentials of a Unix socket peer ` +
        `(pid, uid, gid) are not available to this server`,
    );
  }
  if (prefix === "vsock-cid:" || prefix === "vsock-port:") {
    const id = parseInt64(prefix, entry.slice(colon + 1));
    if (id < 0n || id > UINT32_MAX) throw new ConfigError(`${prefix} parameter out of range`);
    return { kind: prefix === "vsock-cid:" ? "vsock-cid" : "vsock-port", id };
  }
  const slash = entry.indexOf("/");
  if (slash >= 0) return parsePrefixRule(param, entry, slash);
  const ipv4 = parseIPv4(entry);
  if (ipv4) return { kind: "ipv4", bytes: ipv4, prefixLength: 32 };
  const ipv6 = parseIPv6(entry);
  if (ipv6) return { kind: "ipv6", bytes: ipv6, prefixLength: 128 };
  throw new ConfigError(`don't know how to parse rule: ${param}=${entry}`);
}

/** ADDRESS/NN: the prefix length is read first, then the address, as nbdkit reads them. */
function parsePrefixRule(param: string, entry: string, slash: number): Rule {
  const lengthText = entry.slice(slash + 1);
  if (lengthText.length > MAX_PREFIX_TEXT) {
    throw new ConfigError(`${param}: cannot parse prefix length: ${lengthText}`);
  }
  const prefixLength = parseUnsigned(param, lengthText);
  const address = entry.slice(0, slash);
  const ipv4 = parseIPv4(address);
  if (ipv4) {
    if (prefixLength > 32) throw new ConfigError(`prefix is > 32 in ${param}=${entry}`);
    return { kind: "ipv4", bytes: ipv4, prefixLength };
  }
  const ipv6 = parseIPv6(address);
  if (ipv6) {
    if (prefixLength > 128) throw new ConfigError(`prefix is > 128 in ${param}=${entry}`);
    return { kind: "ipv6", bytes: ipv6, prefixLength };
  }
  throw new ConfigError(`cannot parse address "${address}" from ${param}=${entry}`);
}

/** Whether `rule` matches a client at `peer`. Nothing here listens on vsock: those never do. */
export function matches(rule: Rule, peer: PeerAddress): boolean {
  switch (rule.kind) {
    case "any":
      return true;
    case "anyipv4":
      return peer.family === "ipv4";
    case "anyipv6":
      return peer.family === "ipv6";
    case "anyunix":
      return peer.family === "unix";
    case "ipv4":
    case "ipv6": {
      if (peer.family !== rule.kind) return false;
      const bytes = rule.kind === "ipv4" ? parseIPv4(peer.address) : parseIPv6(peer.address);
      return bytes !== undefined && samePrefix(bytes, rule.bytes, rule.prefixLength);
    }
    case "anyvsock":
    case "vsock-cid":
    case "vsock-port":
      return false;
  }
}

/** The filter's decision: the allow list first, then the deny list, then allow. */
export function isAllowed(
  allow: readonly Rule[],
  deny: readonly Rule[],
  peer: PeerAddress,
): boolean {
  if (allow.some((rule) => matches(rule, peer))) return true;
  return !deny.some((rule) => matches(rule, peer));
}
