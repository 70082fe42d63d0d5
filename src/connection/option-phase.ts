/**
 * One connection's option phase, from the client's flags to GO: each option answered
 * (negotiation.ts) against the agreement reached so far, and what the answer leads to carried
 * out: its replies queued, the limits it went over logged, the switch to TLS, or the
 * Transmission that GO starts. session.ts decides when an option may run; this file runs it.
 */

import { messageOf } from "../api/errors.ts";
import type { Channel } from "../io.ts";
import type { Codec } from "../protocol/codec.ts";
import { type Agreement, clientFlagsAcceptable, newAgreement } from "./agreement.ts";
import type { BufferPool } from "./buffer-pool.ts";
import type { ServerContext } from "./context.ts";
import type { LimitWatch } from "./limit-watch.ts";
import { negotiate } from "./negotiation.ts";
import type { Output } from "./output.ts";
import { switchToTls } from "./starttls.ts";
import { Transmission } from "./transmission.ts";
import type { ValidationContext } from "./validate.ts";

/** What a connection's option phase works with, made once with its session. */
export interface OptionPhaseSetup {
  readonly ctx: ServerContext;
  readonly channel: Channel;
  readonly codec: Codec;
  readonly output: Output;
  /** The connection's pool, handed on to its Transmission. */
  readonly pool: BufferPool;
  readonly watch: LimitWatch;
  /** The connection's name in logs. */
  readonly where: string;
  /** Whether the connection closed meanwhile (handshake deadline, shutdown). */
  readonly closed: () => boolean;
  /** Ends the connection from transmission (a callback threw DisconnectError). */
  readonly disconnect: () => void;
}

/**
 * What the session does after an option: read the next option, close the connection, nothing
 * (it closed while the option ran), or serve requests with the Transmission GO started.
 */
export type AfterOption = "options" | "close" | "closed" | Transmission;

export class OptionPhase {
  private readonly setup: OptionPhaseSetup;
  /** Set by the client's flags, which come first. */
  private agreement: Agreement | undefined;

  constructor(setup: OptionPhaseSetup) {
    this.setup = setup;
  }

  /** The client's flags: false when they end the connection, else options follow. */
  begin(flags: number): boolean {
    if (!clientFlagsAcceptable(flags)) return false;
    this.agreement = newAgreement(flags, this.setup.channel.startTls !== undefined);
    this.setup.codec.setPhase("options");
    return true;
  }

  /**
   * Answers one option and carries out the answer. Rejects on a failure negotiate() does not
   * expect, and when the TLS handshake fails.
   */
  async run(option: number, data: Uint8Array): Promise<AfterOption> {
    const { ctx, channel, codec, output, watch, where } = this.setup;
    const agreement = this.agreement!;
    const outcome = await negotiate(ctx, agreement, option, data);
    if (this.setup.closed()) {
      // Closed meanwhile (handshake deadline, shutdown): release what GO opened, say nothing.
      if (outcome.next === "transmission") await ctx.closeBackend(outcome.opened.backend, where);
      return "closed";
    }
    outcome.limits?.forEach((hit) => watch.hit(hit));
    // One push each: a spread of millions of replies (a META_CONTEXT flood) overflows the stack.
    for (const reply of outcome.replies) output.push(reply);
    if (outcome.next === "starttls") {
      try {
        await switchToTls(channel, output, codec, agreement);
      } catch (error) {
        throw new Error(`TLS handshake: ${messageOf(error)}`);
      }
      ctx.log.debug(where, "using TLS on this connection");
      if (outcome.thenClose) return "close";
    }
    if (outcome.next === "close") {
      if (outcome.reason) ctx.log.error(where, outcome.reason);
      return "close";
    }
    if (outcome.next === "transmission") {
      watch.stopDeadline();
      const { backend, flags } = outcome.opened;
      const structuredReplies = agreement.structuredReplies;
      const validation: ValidationContext = {
        size: backend.caps.size,
        flags,
        structuredReplies,
        baseAllocation: agreement.baseAllocation,
        maxPayload: ctx.limits.maxPayload,
      };
      const transmission = new Transmission({
        backend,
        validation,
        structuredReplies,
        output,
        pool: this.setup.pool,
        log: ctx.log,
        where,
        disconnect: this.setup.disconnect,
      });
      codec.setPhase("transmission");
      return transmission;
    }
    return "options";
  }
}
