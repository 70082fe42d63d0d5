/**
 * Alignment of exact offsets to a block of at most 2^32 bytes, for filters that split or round
 * requests (blocksize). A number offset costs one remainder; a bigint one (past 2^53) is exact.
 */

import type { Offset } from "../api/plugin.ts";

/** How far `offset` lies past the start of its `block`-sized block: offset mod block. */
export function misalignment(offset: Offset, block: number): number {
  if (typeof offset === "number") return offset % block;
  return Number(BigInt(offset) % BigInt(block));
}

/** `count` rounded down to a multiple of `block`. */
export function roundDown(count: number, block: number): number {
  return count - (count % block);
}

/** `count` rounded up to a multiple of `block`. */
export function roundUp(count: number, block: number): number {
  const over = count % block;
  return over === 0 ? count : count + block - over;
}
