/**
 * One connection's lines in the server log, each named as nbdkit names them ("memory[3]": the
 * plugin and the connection's number), with the -v and -D switches read once per connection so
 * that the request path tests a boolean field and builds no message when they are off.
 */

import { type Errno, NbdError } from "../api/errors.ts";
import type { Log } from "../api/log.ts";
import type { Request } from "../protocol/codec.ts";
import { errorReplyLine, failureLine } from "./debug-lines.ts";

export class ConnectionLog {
  /** The connection's name in logs: "memory[3]". */
  readonly where: string;
  /** The plugin's name, which control-path and request lines start with ("memory: open …"). */
  readonly layer: string;
  readonly verbose: boolean;
  /** Control-path lines print (-v, and not -D nbdkit.backend.controlpath=0). */
  readonly controlpath: boolean;
  /** Request lines print (-v, and not -D nbdkit.backend.datapath=0). */
  readonly datapath: boolean;
  private readonly log: Log;

  constructor(log: Log, layer: string, id: number) {
    this.log = log;
    this.layer = layer;
    this.where = `${layer}[${id}]`;
    this.verbose = log.verbose;
    this.controlpath = log.controlpath;
    this.datapath = log.datapath;
  }

  /** A debug line (-v). */
  debug(message: string): void {
    if (this.verbose) this.log.debug(this.where, message);
  }

  /** An error line, always printed. */
  error(message: string): void {
    this.log.error(this.where, message);
  }

  /**
   * A request the plugin failed with `errno`, named with what it threw: an error line (its
   * stack too under -v) unless the plugin threw an NbdError, which says it meant to fail (nbdkit
   * logs an errno return as a debug line); then, under -v, the error reply sent.
   */
  failed(req: Request, error: unknown, errno: Errno): void {
    if (!(error instanceof NbdError)) this.error(failureLine(this.layer, req, error, this.verbose));
    if (!this.verbose) return;
    if (error instanceof NbdError) this.debug(failureLine(this.layer, req, error, false));
    this.debug(errorReplyLine(errno));
  }

  /**
   * A plugin call outside requests, as nbdkit's backend logs it ("memory: get_size"), when
   * control-path lines print. Bound, to be handed to the backend as its trace.
   */
  readonly control = (call: string): void => {
    if (this.controlpath) this.log.debug(this.where, `${this.layer}: ${call}`);
  };

  /** The trace a Backend takes: control(), or undefined when its lines would not print. */
  get trace(): ((call: string) => void) | undefined {
    return this.controlpath ? this.control : undefined;
  }
}
