/**
 * The payload of an extended BLOCK_STATUS request sent with PAYLOAD_LEN (the server advertised
 * NBD_FLAG_BLOCK_STATUS_PAYLOAD): a u64 effect length, then the u32 ids of the contexts the
 * client wants reported. The codec puts both into the request; a malformed payload leaves its
 * `contextIds` unset, which validation answers EINVAL.
 */

import type { Offset } from "../api/plugin.ts";
import { LIMITS } from "./limits.ts";
import { BLOCK_STATUS_PAYLOAD, getU32, getU64 } from "./layout.ts";

/**
 * The longest such payload kept: one id per context a SET_META_CONTEXT may select. A longer one
 * is read and thrown away (it must name some context twice), then answered EINVAL.
 */
export const MAX_BLOCK_STATUS_PAYLOAD = BLOCK_STATUS_PAYLOAD.size +
  BLOCK_STATUS_PAYLOAD.id * LIMITS.MAX_META_CONTEXT_QUERIES;

/**
 * The effect length and context ids of a payload of 8 bytes and one or more ids (the spec's
 * 8 + 4n); undefined for any other.
 */
export function decodeBlockStatusPayload(
  payload: Uint8Array,
): { length: Offset; contextIds: number[] } | undefined {
  const ids = (payload.length - BLOCK_STATUS_PAYLOAD.size) / BLOCK_STATUS_PAYLOAD.id;
  if (!Number.isInteger(ids) || ids < 1) return undefined;
  const contextIds: number[] = [];
  for (let at = BLOCK_STATUS_PAYLOAD.size; at < payload.length; at += BLOCK_STATUS_PAYLOAD.id) {
    contextIds.push(getU32(payload, at));
  }
  return { length: getU64(payload, 0), contextIds };
}
