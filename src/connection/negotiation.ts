/**
 * Option haggling for one connection: one function per NBD_OPT_*, each answering with the
 * replies to send and whether haggling goes on, ends in transmission, or ends the connection.
 * Behaviour follows the spec and nbdkit 1.32.5's negotiate_handshake_newstyle_options; the TLS
 * rules are in starttls.ts.
 */

import type { Backend, Capabilities } from "../backend/backend.ts";
import type { ServerContext } from "./context.ts";
import { messageOf } from "../api/errors.ts";
import { listExports, resolveExportName } from "../backend/exports.ts";
import {
  BASE_ALLOCATION,
  BASE_ALLOCATION_ID,
  HANDSHAKE_FLAG,
  INFO,
  OPT,
  REP,
  TX_FLAG,
} from "../protocol/constants.ts";
import { advertisedBlockSize, type LimitHit, LIMITS } from "../protocol/limits.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { refusedBeforeTls, startTls } from "./starttls.ts";
import {
  decodeString,
  encodeExportNameReply,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeMetaContextReply,
  encodeOptionReply,
  encodeServerReply,
  metaContextQueryCount,
  parseInfoRequest,
  parseMetaContextRequest,
  type TooLong,
} from "../protocol/handshake.ts";

/** What the client and server have agreed so far. */
export interface Agreement {
  noZeroes: boolean;
  fixedNewstyle: boolean;
  structuredReplies: boolean;
  /** The export named by the last SET_META_CONTEXT, and whether it selected base:allocation. */
  metaContextExport: string | undefined;
  baseAllocation: boolean;
  listed: boolean;
  optionsLeft: number;
  /** Whether this connection's runtime channel can be upgraded to TLS, and whether it was. */
  canStartTls: boolean;
  usingTls: boolean;
}

/** The export a GO or EXPORT_NAME opened, ready for transmission. */
export interface OpenExport {
  backend: Backend;
  name: string;
  flags: number;
}

/** What to do after an option; `limits` are the limits it went over, for the log. */
export type Outcome =
  & (
    | { next: "options"; replies: Uint8Array[] }
    | { next: "transmission"; replies: Uint8Array[]; opened: OpenExport }
    /** Send the replies in clear, then upgrade to TLS (then close, when the budget is spent). */
    | { next: "starttls"; replies: Uint8Array[]; thenClose?: boolean }
    | { next: "close"; replies: Uint8Array[]; reason?: string }
  )
  & { limits?: LimitHit[] };

export function newAgreement(clientFlags: number, canStartTls = false): Agreement {
  return {
    noZeroes: (clientFlags & HANDSHAKE_FLAG.NO_ZEROES) !== 0,
    fixedNewstyle: (clientFlags & HANDSHAKE_FLAG.FIXED_NEWSTYLE) !== 0,
    structuredReplies: false,
    metaContextExport: undefined,
    baseAllocation: false,
    listed: false,
    optionsLeft: LIMITS.MAX_OPTIONS,
    canStartTls,
    usingTls: false,
  };
}

/** Client flags we do not know (or did not offer) end the connection, as in nbdkit. */
export function clientFlagsAcceptable(flags: number): boolean {
  return (flags & ~(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES)) === 0;
}

/** The transmission flags of an export, exactly as its capabilities say. */
export function transmissionFlags(caps: Capabilities, sr: boolean, threadModel: number): number {
  let flags = TX_FLAG.HAS_FLAGS;
  if (!caps.writable) flags |= TX_FLAG.READ_ONLY;
  else {
    flags |= TX_FLAG.SEND_WRITE_ZEROES;
    if (caps.fastZero) flags |= TX_FLAG.SEND_FAST_ZERO;
    if (caps.trim) flags |= TX_FLAG.SEND_TRIM;
    if (caps.fua) flags |= TX_FLAG.SEND_FUA;
  }
  if (caps.flush) flags |= TX_FLAG.SEND_FLUSH;
  if (caps.rotational) flags |= TX_FLAG.ROTATIONAL;
  if (caps.multiConn && threadModel > THREAD_MODEL.SERIALIZE_CONNECTIONS) {
    flags |= TX_FLAG.CAN_MULTI_CONN;
  }
  if (caps.cache) flags |= TX_FLAG.SEND_CACHE;
  if (sr) flags |= TX_FLAG.SEND_DF;
  return flags;
}

/**
 * Answers one option. Never throws: a failing plugin becomes an error reply or a close. The
 * option that uses up the client's budget (LIMITS.MAX_OPTIONS) is answered, then the connection
 * closes, as nbdkit's negotiation loop ends without reading another.
 */
export async function negotiate(
  ctx: ServerContext,
  state: Agreement,
  option: number,
  data: Uint8Array,
): Promise<Outcome> {
  const outcome = await answerOption(ctx, state, option, data);
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
  return { next: "close", replies: outcome.replies, limits };
}

/** A TooLong that collects the limit hits of one option, answered with ERR_INVALID. */
function stringHits(option: number): { hits: LimitHit[]; tooLong: TooLong } {
  const hits: LimitHit[] = [];
  const tooLong: TooLong = (what, length) =>
    hits.push({
      limit: "MAX_STRING",
      value: LIMITS.MAX_STRING,
      what: `${what} of ${length} bytes in option ${option}`,
      outcome: "answered ERR_INVALID",
    });
  return { hits, tooLong };
}

async function answerOption(
  ctx: ServerContext,
  state: Agreement,
  option: number,
  data: Uint8Array,
): Promise<Outcome> {
  const reply = (type: number, payload?: Uint8Array) => encodeOptionReply(option, type, payload);
  const answer = (type: number): Outcome => ({ next: "options", replies: [reply(type)] });

  if (!state.fixedNewstyle && option !== OPT.EXPORT_NAME) return answer(REP.ERR_INVALID);
  const refused = refusedBeforeTls(ctx, state, option);
  if (refused) return refused;

  switch (option) {
    case OPT.EXPORT_NAME:
      return await exportName(ctx, state, data);
    case OPT.ABORT:
      return { next: "close", replies: [reply(REP.ACK)] };
    case OPT.LIST:
      if (data.length !== 0 || state.listed) return answer(REP.ERR_INVALID);
      state.listed = true;
      return await list(ctx, state, option);
    case OPT.STARTTLS:
      return startTls(ctx, state, data);
    case OPT.STRUCTURED_REPLY:
      if (data.length !== 0) return answer(REP.ERR_INVALID);
      if (ctx.noStructuredReplies) return answer(REP.ERR_UNSUP);
      state.structuredReplies = true;
      return answer(REP.ACK);
    case OPT.INFO:
    case OPT.GO:
      return await infoOrGo(ctx, state, option, data);
    case OPT.LIST_META_CONTEXT:
    case OPT.SET_META_CONTEXT:
      return metaContext(state, option, data);
    default:
      return answer(REP.ERR_UNSUP);
  }
}

/** Opens the export the client named ("" is the plugin's default export). */
async function openExport(ctx: ServerContext, state: Agreement, requested: string) {
  const name = await resolveExportName(ctx.plugin, ctx.readonly, requested);
  const backend = await ctx.openBackend(name);
  const flags = transmissionFlags(backend.caps, state.structuredReplies, ctx.threadModel);
  return { backend, name, flags };
}

/**
 * One NBD_REP_SERVER per export, then ACK; a failing plugin gets ERR_PLATFORM, as in nbdkit.
 * Each listed export buys the client more options, so it can inspect every one of them.
 */
async function list(ctx: ServerContext, state: Agreement, option: number): Promise<Outcome> {
  let entries;
  try {
    entries = await listExports(ctx.plugin, ctx.readonly);
  } catch (error) {
    ctx.log.error(ctx.pluginName, `list_exports: ${messageOf(error)}`);
    return { next: "options", replies: [encodeOptionReply(option, REP.ERR_PLATFORM)] };
  }
  const replies = entries.map((entry) =>
    encodeOptionReply(option, REP.SERVER, encodeServerReply(entry.name, entry.description))
  );
  replies.push(encodeOptionReply(option, REP.ACK));
  state.optionsLeft += LIMITS.MAX_OPTIONS * entries.length;
  return { next: "options", replies };
}

/** EXPORT_NAME has no error reply: any failure closes the connection. */
async function exportName(ctx: ServerContext, state: Agreement, data: Uint8Array) {
  if (data.length > LIMITS.MAX_STRING) {
    const what = `export name of ${data.length} bytes in option ${OPT.EXPORT_NAME}`;
    const hit = {
      limit: "MAX_STRING",
      value: LIMITS.MAX_STRING,
      what,
      outcome: "connection closed",
    };
    return { next: "close" as const, replies: [], limits: [hit] };
  }
  const name = decodeString(data);
  if (name === undefined) return closeWith("export name is not a valid string");
  let opened: OpenExport;
  try {
    opened = await openExport(ctx, state, name);
  } catch (error) {
    return closeWith(`cannot open export "${name}": ${messageOf(error)}`);
  }
  selectExport(state, name);
  const size = opened.backend.caps.size;
  const replies = [encodeExportNameReply(size, opened.flags, state.noZeroes)];
  return { next: "transmission" as const, replies, opened };
}

function closeWith(reason: string): Outcome {
  return { next: "close", replies: [], reason };
}

/** Meta contexts chosen for another export than the one finally opened are dropped (M6). */
function selectExport(state: Agreement, name: string): void {
  if (state.metaContextExport !== name) state.baseAllocation = false;
}

async function infoOrGo(ctx: ServerContext, state: Agreement, option: number, data: Uint8Array) {
  const reply = (type: number, payload?: Uint8Array) => encodeOptionReply(option, type, payload);
  const { hits, tooLong } = stringHits(option);
  const request = parseInfoRequest(data, tooLong);
  if (request === undefined) {
    return { next: "options" as const, replies: [reply(REP.ERR_INVALID)], limits: hits };
  }
  let opened: OpenExport;
  try {
    opened = await openExport(ctx, state, request.name);
  } catch (error) {
    ctx.log.error(ctx.pluginName, `open of export "${request.name}": ${messageOf(error)}`);
    return { next: "options" as const, replies: [reply(REP.ERR_UNKNOWN)] };
  }
  const { caps } = opened.backend;
  const blockSize = advertisedBlockSize(caps.blockSize, ctx.limits.maxPayload);
  const replies = [reply(REP.INFO, encodeInfoExport(caps.size, opened.flags))];
  // Each requested item in request order, as nbdkit answers them; unknown codes are ignored.
  for (const info of request.infos) {
    if (info === INFO.NAME) replies.push(reply(REP.INFO, encodeInfoString(INFO.NAME, opened.name)));
    if (info === INFO.DESCRIPTION) {
      const text = await describe(ctx, opened);
      if (text !== undefined) replies.push(reply(REP.INFO, encodeInfoString(info, text)));
    }
    if (info === INFO.BLOCK_SIZE && blockSize) {
      const { minimum, preferred, maximum } = blockSize;
      replies.push(reply(REP.INFO, encodeInfoBlockSize(minimum, preferred, maximum)));
    }
  }
  replies.push(reply(REP.ACK));
  if (option === OPT.INFO) {
    try {
      await opened.backend.close();
    } catch (error) {
      ctx.log.error(ctx.pluginName, `close: ${messageOf(error)}`);
    }
    return { next: "options" as const, replies };
  }
  selectExport(state, request.name);
  return { next: "transmission" as const, replies, opened };
}

/** The export description; a plugin failing to give one just sends none. */
async function describe(ctx: ServerContext, opened: OpenExport): Promise<string | undefined> {
  try {
    return await opened.backend.description();
  } catch (error) {
    ctx.log.error(ctx.pluginName, `export_description: ${messageOf(error)}`);
    return undefined;
  }
}

function metaContext(state: Agreement, option: number, data: Uint8Array): Outcome {
  const reply = (type: number, payload?: Uint8Array) => encodeOptionReply(option, type, payload);
  const isSet = option === OPT.SET_META_CONTEXT;
  if (isSet) {
    state.baseAllocation = false; // SET replaces the selection, even when it fails (M4)
    state.metaContextExport = undefined;
    if (!state.structuredReplies) return { next: "options", replies: [reply(REP.ERR_INVALID)] };
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
  if (isSet) {
    state.metaContextExport = request.name;
    if (request.queries.includes(BASE_ALLOCATION)) {
      state.baseAllocation = true;
      replies.push(
        reply(REP.META_CONTEXT, encodeMetaContextReply(BASE_ALLOCATION_ID, BASE_ALLOCATION)),
      );
    }
  } else {
    // No query lists everything; else one reply per matching query, as nbdkit answers.
    const matches = request.queries.length === 0
      ? 1
      : request.queries.filter((q) => q === "base:" || q === BASE_ALLOCATION).length;
    for (let i = 0; i < matches; i++) {
      replies.push(reply(REP.META_CONTEXT, encodeMetaContextReply(0, BASE_ALLOCATION)));
    }
  }
  replies.push(reply(REP.ACK));
  return { next: "options", replies };
}
