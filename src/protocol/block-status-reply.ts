/**
 * The chunk that answers BLOCK_STATUS for one context: BLOCK_STATUS with 32-bit descriptors,
 * or, once extended headers were agreed, BLOCK_STATUS_EXT with a descriptor count and 64-bit
 * lengths and statuses (the spec forbids the 32-bit form then, even for short lengths).
 * Allocates the reply: one per request, sized by its descriptors.
 */

import { REPLY_FLAG, REPLY_TYPE } from "./constants.ts";
import type { Request } from "./codec.ts";
import type { Offset } from "../api/plugin.ts";
import { BLOCK_STATUS, BLOCK_STATUS_EXT, setU32, setU64 } from "./layout.ts";
import { chunkHeaderSize, encodeChunkHeader } from "./replies.ts";

/**
 * A final status chunk for one context: descriptors as (length, status) pairs. Compact lengths
 * must fit 32 bits (the caller caps them); extended ones are exact offsets.
 */
export function encodeBlockStatus(
  req: Request,
  contextId: number,
  lengths: readonly Offset[],
  statuses: readonly number[],
  extended = false,
): Uint8Array {
  const n = lengths.length;
  const shape = extended ? BLOCK_STATUS_EXT : BLOCK_STATUS;
  const payload = shape.size + shape.descriptor * n;
  const header = chunkHeaderSize(extended);
  const buf = new Uint8Array(header + payload);
  const type = extended ? REPLY_TYPE.BLOCK_STATUS_EXT : REPLY_TYPE.BLOCK_STATUS;
  encodeChunkHeader(buf, 0, req, REPLY_FLAG.DONE, type, payload, extended);
  setU32(buf, header, contextId);
  if (extended) setU32(buf, header + BLOCK_STATUS_EXT.count, n);
  let at = header + shape.size;
  for (let i = 0; i < n; i++) {
    if (extended) {
      setU64(buf, at, lengths[i]);
      setU64(buf, at + 8, statuses[i]); // base:allocation's statuses are 32 bits: high half 0
    } else {
      setU32(buf, at, lengths[i] as number);
      setU32(buf, at + 4, statuses[i]);
    }
    at += shape.descriptor;
  }
  return buf;
}
