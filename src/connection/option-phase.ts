/**
 * One connection's option phase, from the client's flags to GO: each option answered
 * (negotiation.ts) against the agreement reached so far, and what the answer leads to carried
 * out: its replies queued, the limits it went over logged, the switch to TLS, or the
 * Transmission that GO starts. session.ts decides when an option may run; this file runs it.
 */

import { messageOf } from "../api/errors.ts";
import type { Channel } from "../io.ts";
import type { Codec } from "../protocol/codec.ts";
import { bareReplyType } from "../protocol/handshake.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { OPT } from "../protocol/constants.ts";
import { type Agreement, clientFlagsAcceptable, newAgreement, type Outcome } from "./agreement.ts";
import type { BufferPool } from "./buffer-pool.ts";
import type { ConnectionLog } from "./connection-log.ts";
import type { ServerContext } from "./context.ts";
import { optionName, replyName } from "./debug-lines.ts";
import type { LimitWatch } from "./limit-watch.ts";
import { negotiate } from "./negotiation.ts";
import { negotiateOldstyle } from "./oldstyle.ts";
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
  /** The connection's lines in the server log. */
  readonly log: ConnectionLog;
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
    const { channel } = this.setup;
    this.agreement = newAgreement(flags, channel.startTls !== undefined, channel.address);
    this.setup.codec.setPhase("options");
    return true;
  }

  /**
   * Answers one option and carries out the answer. Rejects on a failure negotiate() does not
   * expect, and when the TLS handshake fails.
   */
  async run(option: number, data: Uint8Array): Promise<AfterOption> {
    const { ctx, log } = this.setup;
    return this.carryOut(await negotiate(ctx, this.agreement!, option, data, log), option);
  }

  /** Oldstyle (oldstyle.ts): no options, nothing agreed; the greeting starts transmission. */
  async oldstyle(): Promise<AfterOption> {
    this.agreement = newAgreement(0, false, this.setup.channel.address);
    return this.carryOut(await negotiateOldstyle(this.setup.ctx, this.agreement, this.setup.log));
  }

  /** What an answer leads to; `option` is undefined for the oldstyle greeting. */
  private async carryOut(outcome: Outcome, option?: number): Promise<AfterOption> {
    const { ctx, channel, codec, output, watch, log } = this.setup;
    const agreement = this.agreement!;
    if (this.setup.closed()) {
      // Closed meanwhile (handshake deadline, shutdown): release what GO opened, say nothing.
      if (outcome.next === "transmission") await ctx.closeBackend(outcome.opened.backend, log);
      if (outcome.next === "options") await ctx.closeBackend(outcome.release, log);
      return "closed";
    }
    outcome.limits?.forEach((hit) => watch.hit(hit));
    // One push each: a spread of millions of replies (a META_CONTEXT flood) overflows the stack.
    for (const reply of outcome.replies) output.push(reply);
    if (log.verbose && option !== undefined) logReplies(log, option, outcome.replies);
    // INFO's export is closed once answered, as nbdkit closes it after its ACK.
    if (outcome.next === "options" && !await ctx.closeBackend(outcome.release, log)) return "close";
    if (outcome.next === "starttls") {
      log.debug("starting TLS handshake");
      try {
        await switchToTls(channel, output, codec, agreement);
      } catch (error) {
        throw new Error(`TLS handshake: ${messageOf(error)}`);
      }
      log.debug("TLS handshake completed");
      log.debug("using TLS on this connection");
      if (outcome.thenClose) return "close";
    }
    if (outcome.next === "close") {
      if (outcome.reason) log.error(outcome.reason);
      if (option === OPT.ABORT) {
        log.debug(`client sent ${optionName(option)} to abort the connection`);
      }
      return "close";
    }
    if (outcome.next === "transmission") {
      watch.stopDeadline();
      const { backend, flags } = outcome.opened;
      const { structuredReplies, extendedHeaders } = agreement;
      const validation: ValidationContext = {
        size: backend.caps.size,
        flags,
        structuredReplies,
        extendedHeaders,
        baseAllocation: agreement.baseAllocation,
        maxPayload: ctx.limits.maxPayload,
      };
      const transmission = new Transmission({
        backend,
        validation,
        structuredReplies,
        extendedHeaders,
        output,
        pool: this.setup.pool,
        log,
        disconnect: this.setup.disconnect,
      });
      codec.setPhase("transmission", extendedHeaders);
      if (extendedHeaders) log.debug("using extended headers");
      const serially = ctx.threadModel < THREAD_MODEL.PARALLEL;
      log.debug(`handshake complete, processing requests ${serially ? "serially" : "in parallel"}`);
      return transmission;
    }
    return "options";
  }
}

/**
 * nbdkit's line for each ACK or error sent ("replying to NBD_OPT_GO with NBD_REP_ACK"); replies
 * with a payload (INFO, SERVER, META_CONTEXT) have lines of their own, or none, as there.
 */
function logReplies(log: ConnectionLog, option: number, replies: readonly Uint8Array[]): void {
  for (const reply of replies) {
    const type = bareReplyType(reply);
    if (type !== undefined) log.debug(`replying to ${optionName(option)} with ${replyName(type)}`);
  }
}
