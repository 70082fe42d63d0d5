/**
 * Exact arithmetic on byte offsets (`Offset`: a number below 2^53, a bigint past it), for the
 * server and for filters that move requests (offset, partition, truncate). Two numbers whose
 * result is safe stay numbers, so the common case allocates nothing; anything else is worked
 * out as bigint and comes back as a number again when it fits. Never rounds.
 */

import { toOffset } from "./parse.ts";
import type { Offset } from "./plugin.ts";

/** a + b, exactly. */
export function addOffset(a: Offset, b: Offset): Offset {
  if (typeof a === "number" && typeof b === "number") {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  return toOffset(BigInt(a) + BigInt(b));
}

/** a - b, exactly (negative when b is past a). */
export function subtractOffset(a: Offset, b: Offset): Offset {
  if (typeof a === "number" && typeof b === "number") {
    const difference = a - b;
    if (Number.isSafeInteger(difference)) return difference;
  }
  return toOffset(BigInt(a) - BigInt(b));
}

/** Compares two exact offsets: negative, zero or positive like a sort comparator. */
export function compareOffsets(a: Offset, b: Offset): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** How many of `count` bytes at `offset` lie before `limit` (0 when none do): a request's head. */
export function bytesBefore(offset: Offset, count: number, limit: Offset): number {
  if (typeof offset === "number" && typeof limit === "number") {
    return Math.max(0, Math.min(count, limit - offset));
  }
  const room = BigInt(limit) - BigInt(offset);
  return room <= 0n ? 0 : room >= BigInt(count) ? count : Number(room);
}
