/**
 * The TCP port a process listens on, asked of Linux's /proc rather than of the process: nbdkit
 * 1.32.5 has no --print-uri, and `-p 0` lets the kernel choose, so the tests find the port the
 * same way for every server. Reads /proc only; never connects.
 */

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** TCP state LISTEN in /proc/net/tcp's `st` column. */
const LISTEN = "0A";

/** The ports an IPv4 and an IPv6 client reach a process at; empty before it listens. */
export interface ListeningPorts {
  ipv4?: number;
  ipv6?: number;
}

/** An IPv6 socket bound to "::" in /proc/net/tcp6 (local_address 32 hex zeros). */
const ANY_IPV6 = /^0{32}:/;

/**
 * Where `pid` listens on TCP. A socket bound to "::" with no IPv4 socket beside it is dual-stack
 * (Linux's default; nbdkit instead binds the two families apart): IPv4 clients reach it too.
 * Throws if the process listens on several ports of one family.
 */
export function listeningPorts(pid: number): ListeningPorts {
  const inodes = socketInodes(pid);
  const found: ListeningPorts = {};
  let dualStack = false;
  for (const [table, family] of [["tcp", "ipv4"], ["tcp6", "ipv6"]] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for (const row of text.split("\n").slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== LISTEN || !inodes.has(fields[9])) continue;
      const port = parseInt(fields[1].split(":")[1], 16);
      if (found[family] !== undefined && found[family] !== port) {
        throw new Error(`Process ${pid} listens on several ${family} ports`);
      }
      found[family] = port;
      if (family === "ipv6" && ANY_IPV6.test(fields[1])) dualStack = true;
    }
  }
  if (dualStack && found.ipv4 === undefined) found.ipv4 = found.ipv6;
  return found;
}

/** The inodes of the sockets among `pid`'s open file descriptors. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}
