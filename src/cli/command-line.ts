/**
 * The CommandLine record that args.ts fills in: what each option means once parsed, the
 * actions a command line can ask for, and the defaults nbdkit applies when an option is missing.
 */

import type { DebugFlag, LogTarget } from "./option-values.ts";
import type { TlsMode } from "../connection/tls-mode.ts";
import type { RawParam } from "./params.ts";

/** What the command line asks for; only "serve" starts a server. */
export const ACTION = {
  SERVE: "serve",
  /** --help: usage, then the plugin's help when a plugin was named. */
  HELP: "help",
  /** --version: our version, then the plugin's when a plugin was named. */
  VERSION: "version",
  /** --dump-plugin: after the parameters are given to config(), print the plugin's fields. */
  DUMP_PLUGIN: "dump-plugin",
  /** --dump-config, --long-options, --short-options: print and exit 0 at once. */
  DUMP_CONFIG: "dump-config",
  LONG_OPTIONS: "long-options",
  SHORT_OPTIONS: "short-options",
} as const;
export type Action = (typeof ACTION)[keyof typeof ACTION];

/** The TCP port served when no -p, -U, -s or --vsock says otherwise (and shown in $uri). */
export const DEFAULT_PORT = 10809;

/** The -U argument that asks for a private socket in a new temporary directory. */
export const PRIVATE_SOCKET = "-";

/** Everything the command line says; a field is missing when its option was not given. */
export interface CommandLine {
  readonly action: Action;
  /** First operand: a built-in plugin's short name or a module path (see config-key.ts). */
  readonly plugin?: string;
  /** The words after the plugin, split but not yet keyed: see resolveParams. */
  readonly params: readonly RawParam[];

  /** -U: a path as typed (nbdkit makes it absolute), or PRIVATE_SOCKET. */
  readonly unixSocket?: string;
  /** -p: 0 to 65535. */
  readonly port?: number;
  /** -i: the address to listen on (ignored with -U, as nbdkit ignores it). */
  readonly ipAddr?: string;
  /** -4 / -6: restrict TCP to one family; the last one given wins. */
  readonly ipFamily?: "ipv4" | "ipv6";
  /** --vsock: listen on AF_VSOCK (port from -p). */
  readonly vsock: boolean;
  /** --websocket: speak NBD inside WebSocket binary messages on the TCP port (-p, -i). */
  readonly websocket: boolean;
  /** --websocket-origin, repeatable: origins of the web pages served ("*": every page). */
  readonly websocketOrigins: readonly string[];
  /** --websocket-host, repeatable: when given, the only Host names served. */
  readonly websocketHosts: readonly string[];
  /** -s: serve one connection on stdin/stdout. */
  readonly single: boolean;
  /** --run: the captive command. */
  readonly run?: string;
  /** -e: the export name for $uri and $exportname; missing means "". */
  readonly exportName?: string;
  /** --print-uri: print the URI once listening (a later nbdkit option, not in 1.32.5). */
  readonly printUri: boolean;

  /** -r */
  readonly readOnly: boolean;
  /** -P: a path as typed (nbdkit makes it absolute before the server changes directory). */
  readonly pidFile?: string;
  /** -f, also implied by --run and --exit-with-parent. */
  readonly foreground: boolean;
  readonly exitWithParent: boolean;
  /** -v */
  readonly verbose: boolean;
  /** -D, in command-line order. */
  readonly debugFlags: readonly DebugFlag[];
  /** --log */
  readonly log?: LogTarget;
  /** -t: 0 (the default) lets the server choose. */
  readonly threads?: number;
  /** --mask-handshake: global handshake flags are ANDed with it; 0xffffffff by default. */
  readonly maskHandshake: number;
  /** --no-sr: do not advertise structured replies. */
  readonly noSr: boolean;
  /** --no-extended-headers: do not offer extended headers (nbdkit has none). */
  readonly noExtendedHeaders: boolean;
  /** -o: the oldstyle handshake; -n (newstyle, the default) turns it off again. */
  readonly oldstyle: boolean;

  /** --filter, in command-line order: the first is the one nearest the client. */
  readonly filters: readonly string[];
  /** --tls, as given. */
  readonly tls?: TlsMode;
  readonly tlsCertificates?: string;
  readonly tlsPsk?: string;
  readonly tlsVerifyPeer: boolean;

  /** -u, -g, --selinux-label, --swap: recorded for the caller to refuse or honour. */
  readonly user?: string;
  readonly group?: string;
  readonly selinuxLabel?: string;
  readonly swap: boolean;
}
