/**
 * Builds the NBD URI nbdkit shows a captive command as $uri (server/captive.c, run_command),
 * percent-encoding as nbdkit's uri_quote does so the result is also safe in a shell word.
 */

import type { TlsMode } from "../connection/tls-mode.ts";

/** RFC 3986 unreserved characters plus '/': uri_quote leaves these alone. */
const URI_SAFE = /^[A-Za-z0-9._~/-]$/;

const encoder = new TextEncoder();

/** Percent-encodes every UTF-8 byte of `text` outside URI_SAFE as %XX (upper-case hex). */
export function uriQuote(text: string): string {
  let out = "";
  for (const char of text) {
    if (URI_SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}

/** Where the server listens: a Unix socket, or else a TCP port on `host`. */
export interface UriTarget {
  /** The socket's real path (never "-": pass the temporary socket made for `-U -`). */
  readonly unixSocket?: string;
  /** TCP port, used when there is no unixSocket. */
  readonly port?: number | string;
  /** TCP host; nbdkit always writes "localhost", whatever -i says. */
  readonly host?: string;
  /** "" leaves the path out, as nbdkit does. */
  readonly exportName: string;
  /** Only "require" changes the scheme, to nbds. */
  readonly tls?: TlsMode;
  /** --websocket: NBD in WebSocket messages on the TCP port, the nbd+ws scheme. */
  readonly websocket?: boolean;
}

/**
 * The URI, exactly as nbdkit 1.32 writes it:
 * - `nbd://localhost:10809`, `nbd://localhost:10809/foo` (a name starting with '/' gives "//")
 * - `nbd+unix://?socket=/tmp/s`, `nbd+unix:///foo?socket=/tmp/s`
 * and, with --websocket, `nbd+ws://localhost:8080/` (README, "The nbd+ws URI": the path is always
 * there, "/" for the default export, as a WebSocket URL's is).
 * The port is written as given, not encoded.
 */
export function buildUri(target: UriTarget): string {
  if (target.websocket) {
    if (target.port === undefined) throw new TypeError("Cannot build a URI: no port");
    return `nbd+ws://localhost:${target.port}/${uriQuote(target.exportName)}`;
  }
  const scheme = target.tls === "require" ? "nbds" : "nbd";
  const path = target.exportName === "" ? "" : `/${uriQuote(target.exportName)}`;
  if (target.unixSocket !== undefined) {
    return `${scheme}+unix://${path}?socket=${uriQuote(target.unixSocket)}`;
  }
  if (target.port === undefined) throw new TypeError("Cannot build a URI: no port and no socket");
  const host = target.host ?? "localhost";
  const authority = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${authority}:${target.port}${path}`;
}
