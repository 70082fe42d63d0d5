/**
 * A count past what a handle takes, in pieces: a client with extended headers may zero, trim or
 * cache more than 2^32 - 1 bytes in one request, and a handle that does not opt in to large
 * counts (Handle.largeCounts) gets the range as calls of at most LARGE_COUNT_PIECE bytes, one
 * after another, as nbdkit would get it from a client that split the request itself.
 */

import { addOffset, compareOffsets, subtractOffset } from "../api/offset.ts";
import type { MaybePromise, Offset } from "../api/plugin.ts";

/** Whether a count fits one call of a handle that takes counts below 2^32 only. */
export function fitsOneCall(count: Offset, piece: number): count is number {
  return typeof count === "number" && count <= piece;
}

/** Runs `call` on each piece of [offset, offset + count), in order, waiting for each. */
export async function inPieces(
  count: Offset,
  offset: Offset,
  piece: number,
  call: (count: number, offset: Offset) => MaybePromise<void>,
): Promise<void> {
  let at = offset;
  let left = count;
  while (compareOffsets(left, 0) > 0) {
    const n = compareOffsets(left, piece) > 0 ? piece : Number(left);
    await call(n, at);
    at = addOffset(at, n);
    left = subtractOffset(left, n);
  }
}
