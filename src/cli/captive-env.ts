/**
 * What a --run command sees (server/captive.c, run_command): the shell variables uri, nbd,
 * exportname, tls, port and unixsocket, and the script that sets them before the command.
 * nbdkit sets them as plain shell variables, not exported: a program the command starts does
 * not inherit them unless the command passes them on ("$uri").
 */

import { DEFAULT_PORT } from "./command-line.ts";
import type { TlsMode } from "../connection/tls-mode.ts";
import { shellQuote } from "../api/shell-quote.ts";
import { buildUri } from "./uri.ts";

/** Where the captive server listens, after `-U -` became a real path. */
export interface CaptiveTarget {
  /** The socket's real path; when set, TCP is not used. */
  readonly unixSocket?: string;
  /** The TCP port; DEFAULT_PORT when neither -p nor -U was given, as nbdkit shows it. */
  readonly port?: number;
  /** -e; missing is "". */
  readonly exportName?: string;
  /**
   * The TLS mode in force after start-up: nbdkit turns "on" into "off" when no certificates
   * load, so without TLS support pass "off" (or nothing) unless the server failed to start.
   */
  readonly tls?: TlsMode;
  /** --websocket: $uri is an nbd+ws URI. */
  readonly websocket?: boolean;
}

/** The variables, in the order nbdkit's script sets them; `tls` only when TLS is on. */
export interface CaptiveVariables {
  readonly uri: string;
  readonly nbd: string;
  readonly exportname: string;
  readonly tls?: "1" | "2";
  readonly port: string;
  readonly unixsocket: string;
}

/** Each variable's value as the command sees it: `port` is "" for a Unix socket, and so on. */
export function captiveEnvironment(target: CaptiveTarget): CaptiveVariables {
  const exportName = target.exportName ?? "";
  const unix = target.unixSocket;
  const port = unix === undefined ? String(target.port ?? DEFAULT_PORT) : "";
  const uri = unix === undefined
    ? buildUri({ port, exportName, tls: target.tls, websocket: target.websocket })
    : buildUri({ unixSocket: unix, exportName, tls: target.tls });
  const tls = target.tls === "require" ? "2" : target.tls === "on" ? "1" : undefined;
  return {
    uri,
    nbd: uri,
    exportname: exportName,
    ...(tls === undefined ? {} : { tls }),
    port,
    unixsocket: unix ?? "",
  };
}

/**
 * The script to run with `sh -c` (nbdkit runs it with system(3)): one assignment per variable,
 * then the command text unchanged on the last line. Running it this way keeps nbdkit's
 * semantics exactly, including the variables not being exported.
 */
export function captiveScript(variables: CaptiveVariables, command: string): string {
  const lines = Object.entries(variables).map(([name, value]) =>
    name === "nbd" ? 'nbd="$uri"' : `${name}=${value === "" ? "" : shellQuote(value)}`
  );
  return `${lines.join("\n")}\n${command}`;
}
