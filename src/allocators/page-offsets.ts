/**
 * Byte offsets as 4 KiB page numbers and back, for the sparse allocator: plain numbers below
 * 2^53, exact BigInt arithmetic only for the rare offset past it.
 */

import type { Offset } from "../api/plugin.ts";
import { PAGE_SIZE } from "../wasm/hotpath.ts";

export const BIG_PAGE_SIZE = BigInt(PAGE_SIZE);
/** The last page whose byte offset is still a safe integer. */
const MAX_SAFE_PAGE = Math.floor(Number.MAX_SAFE_INTEGER / PAGE_SIZE);

export function pageOf(offset: Offset): number {
  return typeof offset === "number"
    ? Math.floor(offset / PAGE_SIZE)
    : Number(offset / BIG_PAGE_SIZE);
}

export function inPageOf(offset: Offset): number {
  return typeof offset === "number" ? offset % PAGE_SIZE : Number(offset % BIG_PAGE_SIZE);
}

/** The byte offset of a page: a number while safe, else a bigint. */
export function byteOf(page: number): Offset {
  return page <= MAX_SAFE_PAGE ? page * PAGE_SIZE : BigInt(page) * BIG_PAGE_SIZE;
}

/** stop - start, for the short spans extents() reports. */
export function distance(start: Offset, stop: Offset): number {
  if (typeof start === "number" && typeof stop === "number") return stop - start;
  return Number(BigInt(stop) - BigInt(start));
}
