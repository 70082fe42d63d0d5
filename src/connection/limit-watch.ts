/**
 * One connection's watch over the limits of limits.ts that the session enforces: the handshake
 * deadline (a timer from the greeting until transmission or close), and the log line each time
 * a client goes over a limit, naming the limit and the peer. Pausing for too much in flight is
 * backpressure, not an error: it is said once per connection, with -v only. Keeps session.ts
 * free of timers and log wording.
 */

import type { ServerContext } from "./context.ts";
import { type LimitHit, LIMITS, logLimitHit } from "../protocol/limits.ts";
import type { Request } from "../protocol/codec.ts";
import { CMD, nameOf } from "../protocol/constants.ts";

export class LimitWatch {
  private readonly ctx: ServerContext;
  private readonly where: string;
  private readonly peer: string;
  private cancelDeadline: (() => void) | undefined;
  private throttled = false;

  constructor(ctx: ServerContext, where: string, peer: string) {
    this.ctx = ctx;
    this.where = where;
    this.peer = peer;
  }

  /** Starts the handshake deadline: `expire` closes the connection if it passes. */
  startDeadline(expire: () => void): void {
    const ms = this.ctx.limits.handshakeTimeoutMs;
    if (ms === 0 || this.cancelDeadline) return;
    this.cancelDeadline = this.ctx.timers.after(ms, () => {
      this.cancelDeadline = undefined;
      this.hit({
        limit: "handshakeTimeoutMs",
        value: ms,
        what: "negotiation not finished in time",
        outcome: "connection closed",
      });
      expire();
    });
  }

  /** Negotiation ended (transmission) or the connection closed: no deadline any more. */
  stopDeadline(): void {
    this.cancelDeadline?.();
    this.cancelDeadline = undefined;
  }

  /** Logs a client going over a limit, once per occurrence. */
  hit(hit: LimitHit): void {
    logLimitHit(this.ctx.log, this.where, this.peer, hit);
  }

  /** A READ or WRITE over the maximum payload, answered ENOMEM as nbdkit does. */
  payloadRefused(req: Request): void {
    this.hit({
      limit: "maxPayload",
      value: this.ctx.limits.maxPayload,
      what: `${nameOf(CMD, req.type)} of ${req.length} bytes`,
      outcome: "answered ENOMEM",
    });
  }

  /**
   * Whether reading must pause because too much of this connection is in flight
   * (LIMITS.MAX_IN_FLIGHT requests, or limits.maxBytesInFlight bytes of READ, WRITE and
   * BLOCK_STATUS). The first pause is said once per connection, with -v.
   */
  tooMuchInFlight(requests: number, bytes: number): boolean {
    if (requests < LIMITS.MAX_IN_FLIGHT && bytes < this.ctx.limits.maxBytesInFlight) return false;
    if (!this.throttled) {
      this.throttled = true;
      const what = `${requests} requests, ${bytes} bytes in flight`;
      this.ctx.log.debug(this.where, `reading paused: ${what} (MAX_IN_FLIGHT, maxBytesInFlight)`);
    }
    return true;
  }
}
