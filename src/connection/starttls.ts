/**
 * The TLS rules of option haggling, as nbdkit 1.32.5 applies them: how STARTTLS is answered
 * under each --tls mode, which options --tls=require refuses until TLS is up, and what a
 * successful STARTTLS makes the server forget (CVE-2021-3716: nothing agreed in clear text
 * survives the switch).
 */

import type { ServerContext } from "./context.ts";
import type { Channel } from "../io.ts";
import type { Agreement, Outcome } from "./agreement.ts";
import type { Output } from "./output.ts";
import type { Codec } from "../protocol/codec.ts";
import { OPT, REP } from "../protocol/constants.ts";
import { encodeOptionReply } from "../protocol/handshake.ts";

/**
 * --tls=require before STARTTLS: every option but ABORT and STARTTLS gets ERR_TLS_REQD, and
 * EXPORT_NAME, which has no error reply, ends the connection. Undefined: the option goes on.
 */
export function refusedBeforeTls(
  ctx: ServerContext,
  state: Agreement,
  option: number,
): Outcome | undefined {
  if (ctx.tls !== "require" || state.usingTls) return undefined;
  if (option === OPT.ABORT || option === OPT.STARTTLS) return undefined;
  if (option === OPT.EXPORT_NAME) {
    return {
      next: "close",
      replies: [],
      reason: "non-TLS client tried to connect in --tls=require mode",
    };
  }
  return { next: "options", replies: [encodeOptionReply(option, REP.ERR_TLS_REQD)] };
}

/** NBD_OPT_STARTTLS: ACK and upgrade, or the refusal nbdkit gives. */
export function startTls(ctx: ServerContext, state: Agreement, data: Uint8Array): Outcome {
  const answer = (type: number) => [encodeOptionReply(OPT.STARTTLS, type)];
  if (data.length !== 0) return { next: "options", replies: answer(REP.ERR_INVALID) };
  // A server without TLS has not implemented it; one with TLS turned off refuses by policy,
  // as nbdkit built with GnuTLS does. So does a connection the runtime cannot upgrade.
  if (ctx.tls === undefined) return { next: "options", replies: answer(REP.ERR_UNSUP) };
  if (ctx.tls === "off" || !state.canStartTls) {
    return { next: "options", replies: answer(REP.ERR_POLICY) };
  }
  if (state.usingTls) return { next: "options", replies: answer(REP.ERR_INVALID) };
  return { next: "starttls", replies: answer(REP.ACK) };
}

/**
 * After the STARTTLS ACK was queued: once it is handed to the runtime, the handshake runs on
 * the bytes that follow it, including any the client sent early (they go to TLS, never to
 * the option decoder). Reading stays paused throughout; a failed handshake rejects.
 */
export async function switchToTls(
  channel: Channel,
  output: Output,
  codec: Codec,
  state: Agreement,
): Promise<void> {
  await output.drained();
  await channel.startTls!(codec.takeUnconsumed());
  forgetClearTextAgreement(state);
}

/**
 * After the handshake: TLS is on, and what was negotiated in clear text is forgotten
 * (structured replies, extended headers, the meta context selection, the default export's
 * name). The LIST-seen flag and the option budget stay, as in nbdkit.
 */
function forgetClearTextAgreement(state: Agreement): void {
  state.usingTls = true;
  state.defaultExport = undefined;
  state.structuredReplies = false;
  state.extendedHeaders = false;
  state.metaContextExport = undefined;
  state.baseAllocation = false;
}
