/**
 * Turns what a runtime reports about a TCP peer (host text and port) into a PeerAddress: the
 * family from the address itself, an IPv4 client of a dual-stack socket as plain IPv4 (as
 * nbdkit, which binds IPv4 and IPv6 apart, sees it), a zone index dropped.
 */

import type { PeerAddress } from "../io.ts";
import { parseIPv4, parseIPv6 } from "../api/ip-address.ts";

/** An IPv4-mapped IPv6 address, ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2), starts so. */
const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** The peer of a TCP connection; undefined when `host` is not an IP address. */
export function tcpPeer(
  host: string | undefined,
  port: number | undefined,
): PeerAddress | undefined {
  if (host === undefined || port === undefined) return undefined;
  if (parseIPv4(host)) return { family: "ipv4", address: host, port };
  const address = host.replace(/%.*$/, "");
  const bytes = parseIPv6(address);
  if (bytes === undefined) return undefined;
  if (MAPPED_PREFIX.every((byte, i) => bytes[i] === byte)) {
    return { family: "ipv4", address: bytes.subarray(12).join("."), port };
  }
  return { family: "ipv6", address, port };
}

/** The peer of any Unix-domain socket connection. */
export const UNIX_PEER: PeerAddress = { family: "unix" };
