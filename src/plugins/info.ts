/**
 * The info plugin (nbdkit-info-plugin): a read-only disk holding something about the
 * connection, as nbdkit's tests use it to see what the server saw: the export name the client
 * asked for (mode=exportname, the default), that name decoded as base64 (base64exportname), the
 * client's address (address: "IP:PORT", "[IPv6]:PORT", or "unix"), or a clock read afresh on
 * every read (time, uptime, conntime: 8 bytes of seconds and 4 of microseconds, big-endian).
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import { CACHE_MODE, type Handle, type PeerAddress, type Plugin } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { decodeBase64 } from "./data/base64.ts";

const MODES = {
  exportname: "exportname",
  "export-name": "exportname",
  base64exportname: "base64exportname",
  "base64-export-name": "base64exportname",
  address: "address",
  time: "time",
  uptime: "uptime",
  conntime: "conntime",
} as const;

type Mode = (typeof MODES)[keyof typeof MODES];

const encoder = new TextEncoder();

/** Microseconds since the epoch, finer than Date.now() (gettimeofday's resolution). */
function nowMicroseconds(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** What mode=address serves: nbdkit formats the peer with inet_ntop, and Unix sockets as "unix". */
function addressText(peer: PeerAddress | undefined): string {
  if (peer === undefined) {
    throw new NbdError(ERRNO.EIO, "nbdkit_peer_name: this connection has no address to tell");
  }
  if (peer.family === "unix") return "unix";
  return peer.family === "ipv6" ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}

export function createInfoPlugin(): Plugin {
  let mode: Mode = "exportname";
  let loaded = nowMicroseconds();

  /** The 12 bytes of a clock mode, read now. */
  function clock(connected: number): Uint8Array {
    const now = nowMicroseconds();
    const since = mode === "time" ? now : now - (mode === "uptime" ? loaded : connected);
    const data = new Uint8Array(12);
    const view = new DataView(data.buffer);
    view.setBigInt64(0, BigInt(Math.floor(since / 1e6)));
    view.setInt32(8, since % 1e6);
    return data;
  }

  function contents(exportName: string, peer: PeerAddress | undefined): Uint8Array {
    if (mode === "exportname") return encoder.encode(exportName);
    if (mode === "address") return encoder.encode(addressText(peer));
    try {
      return decodeBase64(exportName);
    } catch (error) {
      throw new NbdError(ERRNO.EINVAL, messageOf(error));
    }
  }

  return {
    name: "info",
    version: VERSION,
    magicConfigKey: "mode",
    configHelp: "mode=exportname|base64exportname|address|time|uptime|conntime\n" +
      "                                      Plugin mode (default exportname).",
    load() {
      loaded = nowMicroseconds();
    },
    config(key, value) {
      if (key !== "mode") throw new ConfigError(`unknown parameter '${key}'`);
      const chosen = MODES[value.toLowerCase() as keyof typeof MODES];
      if (chosen === undefined) throw new ConfigError(`unknown mode: '${value}'`);
      mode = chosen;
    },
    dumpPlugin: () => ["info_address=yes", "info_base64=yes"],

    open(_readonly, exportName, _tls, peer): Handle {
      const connected = nowMicroseconds();
      const clocked = mode === "time" || mode === "uptime" || mode === "conntime";
      const data = clocked ? new Uint8Array(12) : contents(exportName, peer);
      return {
        getSize: () => data.length,
        readAt(buf, offset) {
          const source = clocked ? clock(connected) : data;
          buf.set(source.subarray(Number(offset), Number(offset) + buf.length));
        },
        // Different connections by the same client see the same name; not so an address or a clock.
        canMultiConn: () => mode === "exportname" || mode === "base64exportname",
        canCache: () => CACHE_MODE.NATIVE,
      };
    },
  };
}
