/**
 * NBD_OPT_EXTENDED_HEADERS (the spec's extension-ext-header): 32-byte requests and reply
 * chunks with 64-bit lengths from GO on. Acknowledged whether or not structured replies came
 * first, and again when repeated; refused (ERR_UNSUP, the answer of a server without them) when
 * they are turned off, and with --no-sr, which turns off every structured reply. Once agreed,
 * STRUCTURED_REPLY gets ERR_EXT_HEADER_REQD, EXPORT_NAME ends the connection, and STARTTLS
 * forgets them (negotiation.ts, open-export.ts, starttls.ts).
 */

import { OPT, REP } from "../protocol/constants.ts";
import { encodeOptionReply } from "../protocol/handshake.ts";
import type { Agreement, Outcome } from "./agreement.ts";
import type { ConnectionLog } from "./connection-log.ts";
import type { ServerContext } from "./context.ts";
import { optionLine } from "./debug-lines.ts";

/** Answers NBD_OPT_EXTENDED_HEADERS, which came without data. */
export function extendedHeaders(ctx: ServerContext, state: Agreement, log: ConnectionLog): Outcome {
  const option = OPT.EXTENDED_HEADERS;
  const answer = (type: number): Outcome => ({
    next: "options",
    replies: [encodeOptionReply(option, type)],
  });
  log.debug(optionLine(option, "client requested extended headers"));
  if (ctx.noExtendedHeaders || ctx.noStructuredReplies) {
    log.debug(optionLine(option, "extended headers are disabled"));
    return answer(REP.ERR_UNSUP);
  }
  state.extendedHeaders = true;
  return answer(REP.ACK);
}
