/**
 * The server's option table, nbdkit's server/options.h as data: each option once, with its
 * short letter, its long spellings (aliases kept in nbdkit's order, which `--long-options`
 * prints and getopt's "ambiguous" message lists) and whether it takes an argument.
 * It only describes options; what each one does lives in args.ts.
 */

/** One option: `id` is its canonical long name, the one help and messages use. */
export interface OptionSpec<Id extends string = string> {
  readonly id: Id;
  readonly short?: string;
  readonly long: readonly string[];
  readonly argument: boolean;
}

/**
 * Every option nbdkit 1.32.5 accepts, plus `--print-uri` (added by a later nbdkit) and our
 * `--websocket` (NBD carried in WebSocket binary messages on the TCP port) with the web pages
 * (`--websocket-origin`) and host names (`--websocket-host`) it serves. Parsing an
 * option does not mean supporting it: the caller refuses what the server cannot do.
 */
export const OPTIONS = [
  { id: "ipv4-only", short: "4", long: ["ipv4-only"], argument: false },
  { id: "ipv6-only", short: "6", long: ["ipv6-only"], argument: false },
  { id: "debug", short: "D", long: ["debug"], argument: true },
  { id: "dump-config", long: ["dump-config"], argument: false },
  { id: "dump-plugin", long: ["dump-plugin"], argument: false },
  { id: "exit-with-parent", long: ["exit-with-parent"], argument: false },
  { id: "exportname", short: "e", long: ["export", "export-name", "exportname"], argument: true },
  { id: "filter", long: ["filter"], argument: true },
  { id: "foreground", short: "f", long: ["foreground", "no-fork"], argument: false },
  { id: "group", short: "g", long: ["group"], argument: true },
  { id: "help", long: ["help"], argument: false },
  { id: "ipaddr", short: "i", long: ["ip-addr", "ipaddr"], argument: true },
  { id: "log", long: ["log"], argument: true },
  { id: "long-options", long: ["long-options"], argument: false },
  { id: "mask-handshake", long: ["mask-handshake"], argument: true },
  { id: "newstyle", short: "n", long: ["new-style", "newstyle"], argument: false },
  { id: "no-sr", long: ["no-sr"], argument: false },
  { id: "no-extended-headers", long: ["no-extended-headers"], argument: false },
  { id: "oldstyle", short: "o", long: ["old-style", "oldstyle"], argument: false },
  { id: "pidfile", short: "P", long: ["pid-file", "pidfile"], argument: true },
  { id: "port", short: "p", long: ["port"], argument: true },
  { id: "print-uri", long: ["print-uri"], argument: false },
  { id: "readonly", short: "r", long: ["read-only", "readonly"], argument: false },
  { id: "run", long: ["run"], argument: true },
  { id: "selinux-label", long: ["selinux-label"], argument: true },
  { id: "short-options", long: ["short-options"], argument: false },
  { id: "single", short: "s", long: ["single", "stdin"], argument: false },
  { id: "swap", long: ["swap"], argument: false },
  { id: "threads", short: "t", long: ["threads"], argument: true },
  { id: "tls", long: ["tls"], argument: true },
  { id: "tls-certificates", long: ["tls-certificates"], argument: true },
  { id: "tls-psk", long: ["tls-psk"], argument: true },
  { id: "tls-verify-peer", long: ["tls-verify-peer"], argument: false },
  { id: "unix", short: "U", long: ["unix"], argument: true },
  { id: "user", short: "u", long: ["user"], argument: true },
  { id: "verbose", short: "v", long: ["verbose"], argument: false },
  { id: "version", short: "V", long: ["version"], argument: false },
  { id: "vsock", long: ["vsock"], argument: false },
  { id: "websocket", long: ["websocket"], argument: false },
  { id: "websocket-origin", long: ["websocket-origin"], argument: true },
  { id: "websocket-host", long: ["websocket-host"], argument: true },
] as const satisfies readonly OptionSpec[];

export type OptionId = (typeof OPTIONS)[number]["id"];

/** Short letters in nbdkit's getopt string order ("46D:e:fg:…"), as `--short-options` lists them. */
export const SHORT_OPTION_ORDER = "46DefginopPrstuUvV";

/** Options nbdkit leaves out of `--long-options` and its help: they exist for shell completion. */
export const UNDOCUMENTED: ReadonlySet<OptionId> = new Set(["long-options", "short-options"]);
