/**
 * Error, verbose and debug messages, formatted like nbdkit's ("nbdts: memory[1]: error: …")
 * and written to a sink the runtime supplies (stderr). -v turns on debug messages; nbdkit's
 * -D nbdkit.backend.controlpath=0 and -D nbdkit.backend.datapath=0 turn off two kinds of them.
 * Each switch is a plain boolean, fixed at start-up, for callers to test before they build a
 * message: a request costs nothing here when -v is off.
 */

import { routeDebug } from "./debug.ts";

export const PROGRAM = "nbdts";

/** What debug lines print; the -D switches are on unless given as false. */
export interface LogSwitches {
  /** -v: debug lines print at all. */
  readonly verbose?: boolean;
  /** -D nbdkit.backend.controlpath: plugin calls outside requests (open, can_*, close …). */
  readonly controlpath?: boolean;
  /** -D nbdkit.backend.datapath: one line per request (pread, pwrite, zero …). */
  readonly datapath?: boolean;
}

export class Log {
  readonly verbose: boolean;
  /** Control-path lines print: -v, and not -D nbdkit.backend.controlpath=0. */
  readonly controlpath: boolean;
  /** Request lines print: -v, and not -D nbdkit.backend.datapath=0. */
  readonly datapath: boolean;
  private readonly sink: (line: string) => void;
  private readonly program: string;

  /**
   * `switches` may be just -v's boolean. `program` starts each line: "nbdts", or "nbdkit" when
   * the program answers as nbdkit.
   */
  constructor(
    sink: (line: string) => void,
    switches: boolean | LogSwitches = false,
    program = PROGRAM,
  ) {
    const given = typeof switches === "boolean" ? { verbose: switches } : switches;
    this.sink = sink;
    this.program = program;
    this.verbose = given.verbose ?? false;
    this.controlpath = this.verbose && given.controlpath !== false;
    this.datapath = this.verbose && given.datapath !== false;
  }

  /** Always printed: something failed. `where` is like "memory[3]" (plugin and connection). */
  error(where: string, message: string): void {
    this.sink(`${this.program}: ${where}: error: ${oneEnd(message)}\n`);
  }

  /** Printed only with -v. */
  debug(where: string, message: string): void {
    if (this.verbose) this.sink(`${this.program}: ${where}: debug: ${oneEnd(message)}\n`);
  }

  /**
   * Makes plugins' and filters' debug() calls (api/debug.ts) print here, named after the
   * plugin `name` as nbdkit names its lines; without -v they print nowhere.
   */
  takePluginDebug(name: string): void {
    routeDebug(this.verbose ? (message) => this.debug(name, message) : undefined);
  }
}

/** A message without the line ends some carry (OpenSSL's), so each log line ends once. */
function oneEnd(message: string): string {
  return message.replace(/[\r\n]+$/, "");
}
