/**
 * Option haggling for one connection: one function per NBD_OPT_*, each answering with the
 * replies to send and whether haggling goes on, ends in transmission, or ends the connection.
 * Behaviour follows the spec and nbdkit 1.32.5's negotiate_handshake_newstyle_options. The
 * state is agreement.ts; choosing an export is open-export.ts, meta contexts meta-context.ts,
 * the TLS rules starttls.ts.
 */

import { messageOf } from "../api/errors.ts";
import { listExports } from "../backend/exports.ts";
import { OPT, REP } from "../protocol/constants.ts";
import { encodeOptionReply, encodeServerReply } from "../protocol/handshake.ts";
import { type LimitHit, LIMITS } from "../protocol/limits.ts";
import type { Agreement, Outcome } from "./agreement.ts";
import type { ConnectionLog } from "./connection-log.ts";
import type { ServerContext } from "./context.ts";
import { optionLine, optionName } from "./debug-lines.ts";
import { metaContext } from "./meta-context.ts";
import { extendedHeaders } from "./extended-headers.ts";
import { exportName, infoOrGo } from "./open-export.ts";
import { refusedBeforeTls, startTls } from "./starttls.ts";

/**
 * Answers one option, telling `log` what nbdkit's -v tells of it. Never throws: a failing
 * plugin becomes an error reply or a close. The option that uses up the client's budget
 * (LIMITS.MAX_OPTIONS) is answered, then the connection closes, as nbdkit's negotiation loop
 * ends without reading another.
 */
export async function negotiate(
  ctx: ServerContext,
  state: Agreement,
  option: number,
  data: Uint8Array,
  log: ConnectionLog,
): Promise<Outcome> {
  const outcome = await answerOption(ctx, state, option, data, log);
  const counted = outcome.next === "options" || outcome.next === "starttls";
  if (!counted || --state.optionsLeft > 0) return outcome;
  const hit: LimitHit = {
    limit: "MAX_OPTIONS",
    value: LIMITS.MAX_OPTIONS,
    what: "options without choosing an export",
    outcome: "connection closed",
  };
  const limits = [...outcome.limits ?? [], hit];
  // nbdkit finishes the TLS handshake of a last STARTTLS, then its negotiation loop ends.
  if (outcome.next === "starttls") return { ...outcome, thenClose: true, limits };
  // The connection ends here, so an export INFO opened is closed now rather than after its reply.
  if (outcome.next === "options") await ctx.closeBackend(outcome.release, log);
  return { next: "close", replies: outcome.replies, limits };
}

async function answerOption(
  ctx: ServerContext,
  state: Agreement,
  option: number,
  data: Uint8Array,
  log: ConnectionLog,
): Promise<Outcome> {
  const reply = (type: number, payload?: Uint8Array) => encodeOptionReply(option, type, payload);
  const answer = (type: number): Outcome => ({ next: "options", replies: [reply(type)] });
  /** An option that takes no data, sent with some: nbdkit's line, then ERR_INVALID. */
  const unexpectedPayload = (): Outcome => {
    log.debug(`ignoring request, client sent unexpected payload: ${optionName(option)}`);
    return answer(REP.ERR_INVALID);
  };

  if (!state.fixedNewstyle && option !== OPT.EXPORT_NAME) return answer(REP.ERR_INVALID);
  const refused = refusedBeforeTls(ctx, state, option);
  if (refused) return refused;

  switch (option) {
    case OPT.EXPORT_NAME:
      return await exportName(ctx, state, data, log);
    case OPT.ABORT:
      return { next: "close", replies: [reply(REP.ACK)] };
    case OPT.LIST:
      if (data.length !== 0) return unexpectedPayload();
      if (state.listed) {
        log.debug(optionLine(option, "export list already advertised"));
        return answer(REP.ERR_INVALID);
      }
      log.debug(optionLine(option, "advertising exports"));
      state.listed = true;
      return await list(ctx, state, option, log);
    case OPT.STARTTLS:
      if (data.length !== 0) return unexpectedPayload();
      return startTls(ctx, state, data);
    case OPT.STRUCTURED_REPLY:
      if (data.length !== 0) return unexpectedPayload();
      log.debug(optionLine(option, "client requested structured replies"));
      if (ctx.noStructuredReplies) {
        log.debug(optionLine(option, "structured replies are disabled"));
        return answer(REP.ERR_UNSUP);
      }
      if (state.extendedHeaders) {
        log.debug(optionLine(option, "extended headers already in use"));
        return answer(REP.ERR_EXT_HEADER_REQD);
      }
      state.structuredReplies = true;
      return answer(REP.ACK);
    case OPT.EXTENDED_HEADERS:
      if (data.length !== 0) return unexpectedPayload();
      return extendedHeaders(ctx, state, log);
    case OPT.INFO:
    case OPT.GO:
      return await infoOrGo(ctx, state, option, data, log);
    case OPT.LIST_META_CONTEXT:
    case OPT.SET_META_CONTEXT:
      return metaContext(state, option, data, log);
    default:
      return answer(REP.ERR_UNSUP);
  }
}

/**
 * One NBD_REP_SERVER per export, then ACK; a failing plugin gets ERR_PLATFORM, as in nbdkit.
 * Each listed export buys the client more options, so it can inspect every one of them.
 */
async function list(
  ctx: ServerContext,
  state: Agreement,
  option: number,
  log: ConnectionLog,
): Promise<Outcome> {
  let entries;
  log.control(`list_exports readonly=${Number(ctx.readonly)} tls=${Number(state.usingTls)}`);
  try {
    entries = await listExports(ctx.plugin, ctx.readonly, state.usingTls, state);
  } catch (error) {
    log.error(`list_exports: ${messageOf(error)}`);
    return { next: "options", replies: [encodeOptionReply(option, REP.ERR_PLATFORM)] };
  }
  log.control(`list_exports returned ${entries.length} names`);
  const replies = entries.map((entry) =>
    encodeOptionReply(option, REP.SERVER, encodeServerReply(entry.name, entry.description))
  );
  replies.push(encodeOptionReply(option, REP.ACK));
  state.optionsLeft += LIMITS.MAX_OPTIONS * entries.length;
  return { next: "options", replies };
}
