/**
 * Where the client of -s (one connection on stdin) is, for every runtime: a Unix-domain socket
 * (a socketpair, as nbdsh's connect_command makes) when Linux lists stdin's socket inode in
 * /proc/net/unix; otherwise unknown. A pipe or a file has no peer, as nbdkit finds
 * (getpeername fails), and no runtime tells the peer of a TCP socket handed over on stdin.
 */

import { fstatSync, readFileSync } from "node:fs";
import type { PeerAddress } from "../io.ts";
import { UNIX_PEER } from "./peer.ts";

/** The Inode column of /proc/net/unix (Num RefCount Protocol Flags Type St Inode Path). */
const INODE_COLUMN = 6;

export function stdinPeer(): PeerAddress | undefined {
  try {
    const stat = fstatSync(0);
    if (!stat.isSocket()) return undefined;
    const table = readFileSync("/proc/net/unix", "utf8").split("\n").slice(1);
    const inode = String(stat.ino);
    const listed = table.some((row) => row.trim().split(/\s+/)[INODE_COLUMN] === inode);
    return listed ? UNIX_PEER : undefined;
  } catch {
    return undefined; // no /proc: nothing to tell by
  }
}
