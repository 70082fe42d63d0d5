/**
 * Reads the command line as nbdkit's main() reads its own (server/main.c): options anywhere,
 * then the plugin name and its parameters. It validates what nbdkit validates while parsing
 * and throws ConfigError (UsageError for getopt's syntax errors); it never loads a plugin,
 * touches the file system or decides what the server supports.
 */

import { ConfigError } from "../api/errors.ts";
import { getoptLong, type Token } from "./getopt.ts";
import { type OptionId, OPTIONS } from "./options.ts";
import { ACTION, type Action, type CommandLine } from "./command-line.ts";
import {
  nonEmptyPath,
  parseDebugFlag,
  parseLogTarget,
  parsePort,
  parseTlsMode,
} from "./option-values.ts";
import { splitParam } from "./params.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { PROGRAM_NAME } from "./program-name.ts";
import { refusedWithActivation } from "./socket-activation.ts";
import { TLS_MODE } from "../connection/tls-mode.ts";

// The caller needs only this module: the record, its constants, and the parameter resolver.
export {
  ACTION,
  type Action,
  type CommandLine,
  DEFAULT_PORT,
  PRIVATE_SOCKET,
} from "./command-line.ts";
export { type DebugFlag, LOG_TARGET, type LogTarget } from "./option-values.ts";
export { TLS_MODE, type TlsMode } from "../connection/tls-mode.ts";
export { type Param, type RawParam, resolveParams } from "./params.ts";

type Draft = { -readonly [K in keyof CommandLine]: CommandLine[K] };

/**
 * Reads argv (without the program name); throws ConfigError on the first mistake. `program`
 * is the name the hints in those errors tell the user to run. Under socket activation an
 * option that says where to listen is that mistake, where nbdkit meets it.
 */
export function parseCommandLine(
  argv: readonly string[],
  { program = PROGRAM_NAME, socketActivation = false } = {},
): CommandLine {
  const line: Draft = {
    action: ACTION.SERVE,
    params: [],
    vsock: false,
    single: false,
    websocket: false,
    websocketOrigins: [],
    websocketHosts: [],
    printUri: false,
    readOnly: false,
    foreground: false,
    exitWithParent: false,
    verbose: false,
    debugFlags: [],
    maskHandshake: 0xffff_ffff,
    noSr: false,
    noExtendedHeaders: false,
    oldstyle: false,
    filters: [],
    tlsVerifyPeer: false,
    swap: false,
  };
  const given = new Map<OptionId, string>();
  const operands: string[] = [];
  const wants = { help: false, version: false, dumpPlugin: false };

  for (const token of getoptLong(argv, OPTIONS)) {
    if (token.kind === "operand") {
      operands.push(token.value);
      continue;
    }
    const refusal = socketActivation ? refusedWithActivation(token.id) : undefined;
    if (refusal) throw refusal;
    given.set(token.id, token.spelling);
    const immediate = applyOption(line, wants, token);
    if (immediate !== undefined) return { ...line, action: immediate };
  }

  if (operands.length === 0) {
    if (wants.help) return { ...line, action: ACTION.HELP };
    if (wants.version) return { ...line, action: ACTION.VERSION };
    if (wants.dumpPlugin) {
      throw new ConfigError(
        `use '${program} PLUGIN --dump-plugin' to see a plugin's fields, ` +
          `or --dump-config for the server's`,
      );
    }
    throw new ConfigError(
      `no plugins given on the command line: use '${program} --help' for usage`,
    );
  }
  refuseConflicts(given);
  refuseWithout(given);
  if (line.oldstyle && line.tls === TLS_MODE.REQUIRE) {
    // TLS starts with an option, and oldstyle has none: nbdkit refuses the pair too.
    throw new ConfigError("cannot use oldstyle protocol (-o) and require TLS");
  }

  const [plugin, ...words] = operands;
  line.plugin = plugin;
  line.params = words.map(splitParam);
  line.action = wants.help
    ? ACTION.HELP
    : wants.version
    ? ACTION.VERSION
    : wants.dumpPlugin
    ? ACTION.DUMP_PLUGIN
    : ACTION.SERVE;
  return line;
}

type Option = Extract<Token<OptionId>, { kind: "option" }>;

/** Records one option; returns an action when nbdkit acts on the option at once and exits. */
function applyOption(
  line: Draft,
  wants: { help: boolean; version: boolean; dumpPlugin: boolean },
  { id, spelling, value = "" }: Option,
): Action | undefined {
  switch (id) {
    case "dump-config":
      return ACTION.DUMP_CONFIG;
    case "long-options":
      return ACTION.LONG_OPTIONS;
    case "short-options":
      return ACTION.SHORT_OPTIONS;
    case "help":
      wants.help = true;
      break;
    case "version":
      wants.version = true;
      break;
    case "dump-plugin":
      wants.dumpPlugin = true;
      break;
    case "ipv4-only":
      line.ipFamily = "ipv4";
      break;
    case "ipv6-only":
      line.ipFamily = "ipv6";
      break;
    case "debug":
      line.debugFlags = [...line.debugFlags, parseDebugFlag(value)];
      break;
    case "exit-with-parent":
      line.exitWithParent = true;
      line.foreground = true;
      break;
    case "exportname":
      line.exportName = value;
      break;
    case "filter":
      line.filters = [...line.filters, value];
      break;
    case "foreground":
      line.foreground = true;
      break;
    case "group":
      line.group = value;
      break;
    case "ipaddr":
      line.ipAddr = value;
      break;
    case "log":
      line.log = parseLogTarget(value);
      break;
    case "mask-handshake":
      line.maskHandshake = parseUnsigned("mask-handshake", value);
      break;
    case "newstyle":
      line.oldstyle = false;
      break;
    case "no-sr":
      line.noSr = true;
      break;
    case "no-extended-headers":
      line.noExtendedHeaders = true;
      break;
    case "oldstyle":
      line.oldstyle = true;
      break;
    case "pidfile":
      line.pidFile = nonEmptyPath(spelling, value);
      break;
    case "port":
      line.port = parsePort(spelling, value);
      break;
    case "print-uri":
      line.printUri = true;
      break;
    case "readonly":
      line.readOnly = true;
      break;
    case "run":
      line.run = value;
      line.foreground = true;
      break;
    case "selinux-label":
      line.selinuxLabel = value;
      break;
    case "single":
      line.single = true;
      break;
    case "swap":
      line.swap = true;
      break;
    case "threads":
      line.threads = parseUnsigned("threads", value);
      break;
    case "tls":
      line.tls = parseTlsMode(spelling, value);
      break;
    case "tls-certificates":
      line.tlsCertificates = value;
      break;
    case "tls-psk":
      line.tlsPsk = value;
      break;
    case "tls-verify-peer":
      line.tlsVerifyPeer = true;
      break;
    case "unix":
      line.unixSocket = nonEmptyPath(spelling, value);
      break;
    case "user":
      line.user = value;
      break;
    case "verbose":
      line.verbose = true;
      break;
    case "vsock":
      line.vsock = true;
      break;
    case "websocket":
      line.websocket = true;
      break;
    case "websocket-origin":
      line.websocketOrigins = [...line.websocketOrigins, value];
      break;
    case "websocket-host":
      line.websocketHosts = [...line.websocketHosts, value];
      break;
  }
  return undefined;
}

/**
 * Pairs that cannot be combined, in the order nbdkit checks them. -i with -U, and --run with
 * -p or -U, are allowed; -s forbids -p, -U, --run, --dump-plugin and --vsock.
 */
const CONFLICTS: readonly (readonly [OptionId, OptionId])[] = [
  ["port", "unix"],
  ["port", "single"],
  ["unix", "single"],
  ["single", "run"],
  ["single", "dump-plugin"],
  ["vsock", "unix"],
  ["vsock", "single"],
  ["websocket", "unix"],
  ["websocket", "single"],
  ["websocket", "vsock"],
];

/** Options that mean nothing without another: giving one alone is a mistake worth naming. */
const NEEDS: readonly (readonly [OptionId, OptionId])[] = [
  ["websocket-origin", "websocket"],
  ["websocket-host", "websocket"],
];

function refuseWithout(given: ReadonlyMap<OptionId, string>): void {
  for (const [option, needed] of NEEDS) {
    const spelling = given.get(option);
    if (spelling !== undefined && !given.has(needed)) {
      throw new ConfigError(`${spelling} can only be used with --${needed}`);
    }
  }
}

function refuseConflicts(given: ReadonlyMap<OptionId, string>): void {
  for (const [a, b] of CONFLICTS) {
    const first = given.get(a);
    const second = given.get(b);
    if (first !== undefined && second !== undefined) {
      throw new ConfigError(`${first} and ${second} options cannot be used together`);
    }
  }
}
