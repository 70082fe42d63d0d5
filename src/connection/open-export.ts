/**
 * Choosing an export: EXPORT_NAME, INFO and GO open the plugin's export, describe it (size,
 * transmission flags, name, description, block sizes) and, for EXPORT_NAME and GO, hand it to
 * transmission.
 */

import { messageOf } from "../api/errors.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import type { Capabilities } from "../backend/backend.ts";
import { resolveExportName } from "../backend/exports.ts";
import { INFO, OPT, REP, TX_FLAG } from "../protocol/constants.ts";
import {
  decodeString,
  encodeExportNameReply,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeOptionReply,
  parseInfoRequest,
} from "../protocol/handshake.ts";
import { advertisedBlockSize, LIMITS } from "../protocol/limits.ts";
import { type Agreement, type OpenExport, type Outcome, stringHits } from "./agreement.ts";
import type { ConnectionLog } from "./connection-log.ts";
import type { ServerContext } from "./context.ts";
import { optionLine, stackFrames } from "./debug-lines.ts";

/**
 * What the agreement adds to an export's transmission flags: DF with structured replies or
 * extended headers; BLOCK_STATUS_PAYLOAD with extended headers once a meta context is chosen
 * for this export (the spec: never without extended headers, not without a context).
 */
export interface AgreedFlags {
  /** Structured replies or extended headers: replies may come in chunks. */
  chunks: boolean;
  blockStatusPayload: boolean;
}

/** The transmission flags of an export, exactly as its capabilities say. */
export function transmissionFlags(
  caps: Capabilities,
  agreed: AgreedFlags,
  threadModel: number,
): number {
  let flags = TX_FLAG.HAS_FLAGS;
  if (!caps.writable) flags |= TX_FLAG.READ_ONLY;
  else {
    if (!caps.zeroNone) flags |= TX_FLAG.SEND_WRITE_ZEROES;
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
  if (agreed.chunks) flags |= TX_FLAG.SEND_DF;
  if (agreed.blockStatusPayload) flags |= TX_FLAG.BLOCK_STATUS_PAYLOAD;
  return flags;
}

/**
 * Opens the export the client named ("" is the plugin's default export), telling `log` of each
 * plugin call and of the flags it leads to, as nbdkit's -v does.
 */
export async function openExport(
  ctx: ServerContext,
  state: Pick<
    Agreement,
    | "structuredReplies"
    | "extendedHeaders"
    | "usingTls"
    | "baseAllocation"
    | "metaContextExport"
    | "defaultExport"
    | "peer"
  >,
  requested: string,
  log: ConnectionLog,
) {
  const modes = `readonly=${Number(ctx.readonly)}`;
  const tls = `tls=${Number(state.usingTls)}`;
  log.control(`open ${modes} exportname=${JSON.stringify(requested)} ${tls}`);
  if (requested === "") log.control(`default_export ${modes} ${tls}`);
  const name = await resolveExportName(
    ctx.plugin,
    ctx.readonly,
    requested,
    state.usingTls,
    state,
  );
  const backend = await ctx.openBackend(name, state.usingTls, log.trace, state.peer);
  const agreed = {
    chunks: state.structuredReplies || state.extendedHeaders,
    blockStatusPayload: state.extendedHeaders && state.baseAllocation &&
      state.metaContextExport === requested,
  };
  const flags = transmissionFlags(backend.caps, agreed, ctx.threadModel);
  log.debug(`newstyle negotiation: flags: export 0x${flags.toString(16)}`);
  return { backend, name, flags };
}

/** nbdkit's line naming the export an option asks for. */
function requestedExport(log: ConnectionLog, option: number, name: string): void {
  log.debug(optionLine(option, `client requested export '${name}'`));
}

/** EXPORT_NAME has no error reply: any failure closes the connection. */
export async function exportName(
  ctx: ServerContext,
  state: Agreement,
  data: Uint8Array,
  log: ConnectionLog,
) {
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
  // The spec: a client that agreed extended headers MUST NOT use EXPORT_NAME, whose reply
  // could not say so; there is no error reply, so the connection ends.
  if (state.extendedHeaders) {
    return closeWith("client sent NBD_OPT_EXPORT_NAME after extended headers were negotiated");
  }
  requestedExport(log, OPT.EXPORT_NAME, name);
  let opened: OpenExport;
  try {
    opened = await openExport(ctx, state, name, log);
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

export async function infoOrGo(
  ctx: ServerContext,
  state: Agreement,
  option: number,
  data: Uint8Array,
  log: ConnectionLog,
) {
  const reply = (type: number, payload?: Uint8Array) => encodeOptionReply(option, type, payload);
  const { hits, tooLong } = stringHits(option);
  const request = parseInfoRequest(data, tooLong);
  if (request === undefined) {
    return { next: "options" as const, replies: [reply(REP.ERR_INVALID)], limits: hits };
  }
  requestedExport(log, option, request.name);
  let opened: OpenExport;
  try {
    opened = await openExport(ctx, state, request.name, log);
  } catch (error) {
    const frames = log.verbose ? stackFrames(error) : "";
    log.error(`open of export "${request.name}": ${messageOf(error)}${frames}`);
    return { next: "options" as const, replies: [reply(REP.ERR_UNKNOWN)] };
  }
  const { caps } = opened.backend;
  const blockSize = advertisedBlockSize(caps.blockSize, ctx.limits.maxPayload);
  const replies = [reply(REP.INFO, encodeInfoExport(caps.size, opened.flags))];
  // Each requested item in request order, as nbdkit answers them; unknown codes are ignored.
  for (const info of request.infos) {
    if (info === INFO.NAME) replies.push(reply(REP.INFO, encodeInfoString(INFO.NAME, opened.name)));
    else if (info === INFO.DESCRIPTION) {
      const text = await describe(opened, log);
      if (text !== undefined) replies.push(reply(REP.INFO, encodeInfoString(info, text)));
      else log.debug(optionLine(option, "NBD_INFO_DESCRIPTION: no description to send"));
    } else if (info === INFO.BLOCK_SIZE) {
      if (blockSize) {
        const { minimum, preferred, maximum } = blockSize;
        replies.push(reply(REP.INFO, encodeInfoBlockSize(minimum, preferred, maximum)));
      } else log.debug(optionLine(option, "NBD_INFO_BLOCK_SIZE: no block size to send"));
    } else if (info !== INFO.EXPORT) {
      log.debug(optionLine(option, `ignoring unknown information request ${info}`));
    }
  }
  replies.push(reply(REP.ACK));
  // INFO's export is closed once the replies are queued (option-phase.ts), as nbdkit does.
  if (option === OPT.INFO) return { next: "options" as const, replies, release: opened.backend };
  selectExport(state, request.name);
  return { next: "transmission" as const, replies, opened };
}

/** The export description; a plugin failing to give one just sends none. */
async function describe(opened: OpenExport, log: ConnectionLog): Promise<string | undefined> {
  log.control("export_description");
  try {
    return await opened.backend.description();
  } catch (error) {
    log.error(`export_description: ${messageOf(error)}`);
    return undefined;
  }
}
