/**
 * Checks a request before it reaches the plugin, in nbdkit's validate_request order, so a
 * client sees the same error from us as from nbdkit for the same bad request. Returns the wire
 * error (NBD_ERR.*), or SUCCESS when the request may run. With extended headers, a payload
 * where none belongs (PAYLOAD_LEN) is EINVAL right after the read-only check: its length is
 * then no effect length to check against the export.
 */

import type { Request } from "../protocol/codec.ts";
import {
  BASE_ALLOCATION_ID,
  CMD,
  CMD_FLAG,
  CMD_FLAG_KNOWN,
  CMD_FLAG_KNOWN_EXTENDED,
  NBD_ERR,
  TX_FLAG,
} from "../protocol/constants.ts";
import type { Offset } from "../api/plugin.ts";

/** What validation needs to know about the connection. */
export interface ValidationContext {
  size: Offset;
  flags: number;
  structuredReplies: boolean;
  /** NBD_OPT_EXTENDED_HEADERS was agreed: 32-byte headers, 64-bit lengths, PAYLOAD_LEN. */
  extendedHeaders: boolean;
  baseAllocation: boolean;
  /** The largest READ or WRITE payload (limits.ts); larger gets ENOMEM, as in nbdkit. */
  maxPayload: number;
}

/** offset + length ≤ size, exactly, for any offset and length the wire can carry. */
function inRange(offset: Offset, length: Offset, size: Offset): boolean {
  if (typeof offset === "number" && typeof length === "number" && typeof size === "number") {
    return offset + length <= size;
  }
  return BigInt(offset) + BigInt(length) <= BigInt(size);
}

/** The command flag that must be advertised before a command may be sent. */
const NEEDS: Readonly<Record<number, number>> = {
  [CMD.FLUSH]: TX_FLAG.SEND_FLUSH,
  [CMD.TRIM]: TX_FLAG.SEND_TRIM,
  [CMD.WRITE_ZEROES]: TX_FLAG.SEND_WRITE_ZEROES,
  [CMD.CACHE]: TX_FLAG.SEND_CACHE,
};

export function validateRequest(req: Request, ctx: ValidationContext): number {
  const { type, flags, length } = req;
  const writeLike = type === CMD.WRITE || type === CMD.TRIM || type === CMD.WRITE_ZEROES;
  if (writeLike && ctx.flags & TX_FLAG.READ_ONLY) return NBD_ERR.EPERM;
  if (ctx.extendedHeaders && !payloadFits(req, ctx)) return NBD_ERR.EINVAL;

  switch (type) {
    case CMD.READ:
    case CMD.CACHE:
    case CMD.WRITE:
    case CMD.TRIM:
    case CMD.WRITE_ZEROES:
    case CMD.BLOCK_STATUS:
      if (length === 0 || !inRange(req.offset, length, ctx.size)) {
        return type === CMD.WRITE || type === CMD.WRITE_ZEROES ? NBD_ERR.ENOSPC : NBD_ERR.EINVAL;
      }
      break;
    case CMD.FLUSH:
      if (req.offset !== 0 || length !== 0) return NBD_ERR.EINVAL;
      break;
    default:
      return NBD_ERR.EINVAL;
  }

  if (flags & ~(ctx.extendedHeaders ? CMD_FLAG_KNOWN_EXTENDED : CMD_FLAG_KNOWN)) {
    return NBD_ERR.EINVAL;
  }
  const zeroOnly = CMD_FLAG.NO_HOLE | CMD_FLAG.FAST_ZERO;
  if (flags & zeroOnly && type !== CMD.WRITE_ZEROES) return NBD_ERR.EINVAL;
  const chunks = ctx.structuredReplies || ctx.extendedHeaders;
  if (flags & CMD_FLAG.DF && (type !== CMD.READ || !chunks)) return NBD_ERR.EINVAL;
  if (flags & CMD_FLAG.REQ_ONE && type !== CMD.BLOCK_STATUS) return NBD_ERR.EINVAL;
  if (flags & CMD_FLAG.FUA && !(ctx.flags & TX_FLAG.SEND_FUA)) return NBD_ERR.EINVAL;
  // nbdkit leaves this unchecked (quirk Q3); the spec says EINVAL.
  if (flags & CMD_FLAG.FAST_ZERO && !(ctx.flags & TX_FLAG.SEND_FAST_ZERO)) return NBD_ERR.EINVAL;

  if ((type === CMD.READ || type === CMD.WRITE) && length > ctx.maxPayload) {
    return NBD_ERR.ENOMEM;
  }
  const needs = NEEDS[type];
  if (needs !== undefined && !(ctx.flags & needs)) return NBD_ERR.EINVAL;
  if (type === CMD.BLOCK_STATUS && !(chunks && ctx.baseAllocation)) return NBD_ERR.EINVAL;
  return NBD_ERR.SUCCESS;
}

/**
 * Extended headers: PAYLOAD_LEN is set on no command but WRITE (where qemu 10 leaves it out,
 * and qemu-nbd and we take the payload either way) and a BLOCK_STATUS where
 * NBD_FLAG_BLOCK_STATUS_PAYLOAD was advertised, whose payload must name negotiated contexts
 * (base:allocation's id), each once.
 */
function payloadFits(req: Request, ctx: ValidationContext): boolean {
  if (req.type === CMD.WRITE || !(req.flags & CMD_FLAG.PAYLOAD_LEN)) return true;
  if (req.type !== CMD.BLOCK_STATUS || !(ctx.flags & TX_FLAG.BLOCK_STATUS_PAYLOAD)) return false;
  const ids = req.contextIds;
  return ids !== undefined && ids.length === 1 && ids[0] === BASE_ALLOCATION_ID;
}
