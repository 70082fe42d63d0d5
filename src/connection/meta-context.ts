/**
 * LIST_META_CONTEXT and SET_META_CONTEXT: the one context served is base:allocation; SET
 * chooses it for the export it names, LIST says what a SET would choose.
 */

import { BASE_ALLOCATION, BASE_ALLOCATION_ID, OPT, REP } from "../protocol/constants.ts";
import {
  encodeMetaContextReply,
  encodeOptionReply,
  metaContextQueryCount,
  parseMetaContextRequest,
} from "../protocol/handshake.ts";
import { LIMITS } from "../protocol/limits.ts";
import { type Agreement, type Outcome, stringHits } from "./agreement.ts";
import type { ConnectionLog } from "./connection-log.ts";
import { optionLine } from "./debug-lines.ts";

/** Answers one META_CONTEXT option, telling `log` what nbdkit's -v tells of it. */
export function metaContext(
  state: Agreement,
  option: number,
  data: Uint8Array,
  log: ConnectionLog,
): Outcome {
  const reply = (type: number, payload?: Uint8Array) => encodeOptionReply(option, type, payload);
  const isSet = option === OPT.SET_META_CONTEXT;
  if (isSet) {
    state.baseAllocation = false; // SET replaces the selection, even when it fails (M4)
    state.metaContextExport = undefined;
    if (!state.structuredReplies && !state.extendedHeaders) {
      return { next: "options", replies: [reply(REP.ERR_INVALID)] };
    }
  }
  const count = metaContextQueryCount(data) ?? 0;
  if (count > LIMITS.MAX_META_CONTEXT_QUERIES) {
    const what = `${count} queries in option ${option}`;
    const outcome = "answered ERR_TOO_BIG";
    const hit = {
      limit: "MAX_META_CONTEXT_QUERIES",
      value: LIMITS.MAX_META_CONTEXT_QUERIES,
      what,
      outcome,
    };
    return { next: "options", replies: [reply(REP.ERR_TOO_BIG)], limits: [hit] };
  }
  const { hits, tooLong } = stringHits(option);
  const request = parseMetaContextRequest(data, tooLong);
  if (request === undefined) {
    return { next: "options", replies: [reply(REP.ERR_INVALID)], limits: hits };
  }
  const replies: Uint8Array[] = [];
  const verb = isSet ? "set" : "query";
  if (log.verbose) {
    log.debug(optionLine(option, `client requested export '${request.name}'`));
    log.debug(optionLine(option, `${verb} count: ${request.queries.length}`));
    for (const query of request.queries) log.debug(optionLine(option, `${verb} ${query}`));
  }
  const id = isSet ? BASE_ALLOCATION_ID : 0;
  if (isSet) {
    state.metaContextExport = request.name;
    if (request.queries.includes(BASE_ALLOCATION)) {
      state.baseAllocation = true;
      replies.push(reply(REP.META_CONTEXT, encodeMetaContextReply(id, BASE_ALLOCATION)));
    }
  } else {
    // No query lists everything; else one reply per matching query, as nbdkit answers.
    const matches = request.queries.length === 0
      ? 1
      : request.queries.filter((q) => q === "base:" || q === BASE_ALLOCATION).length;
    for (let i = 0; i < matches; i++) {
      replies.push(reply(REP.META_CONTEXT, encodeMetaContextReply(id, BASE_ALLOCATION)));
    }
  }
  if (replies.length > 0) {
    log.debug(optionLine(option, `replying with ${BASE_ALLOCATION} id ${id}`));
  }
  replies.push(reply(REP.ACK));
  log.debug(optionLine(option, "reply complete"));
  return { next: "options", replies };
}
