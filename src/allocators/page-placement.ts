/**
 * A WRITE payload received in place (Allocator.place): a run of pinned pages in the sparse
 * allocator's only shard, lent as one view until release() unpins them.
 *
 * Only a disk of one shard whose memory never grows gets one: a view of memory that grows goes
 * stale, and with more than one shard a page could live in any of them (such disks are rare:
 * they use write()).
 */

import type { Offset } from "../api/plugin.ts";
import { type Hotpath, PAGE_SIZE } from "../wasm/hotpath.ts";
import type { Placement } from "./allocator.ts";
import { inPageOf, pageOf } from "./page-offsets.ts";
import type { Shards } from "./shards.ts";

/** Pinned pages from `page`, at `ptr` in `shard`; the view starts `from` bytes in. */
class PagePlacement implements Placement {
  readonly view: Uint8Array;
  readonly shard: Hotpath;
  readonly page: number;
  readonly ptr: number;
  readonly from: number;

  constructor(view: Uint8Array, shard: Hotpath, page: number, ptr: number, from: number) {
    this.view = view;
    this.shard = shard;
    this.page = page;
    this.ptr = ptr;
    this.from = from;
  }
}

/** Room for `count` bytes at `offset`, or undefined when the caller must use write(). */
export function placePages(shards: Shards, count: number, offset: Offset): Placement | undefined {
  const list = shards.list;
  if (list.length !== 1 || count <= 0 || !list[0].fixed) return undefined;
  const shard = list[0];
  const page = pageOf(offset);
  const from = inPageOf(offset);
  const pages = Math.ceil((from + count) / PAGE_SIZE);
  const ptr = shard.exports.placeRun(page, pages) >>> 0;
  if (ptr === 0) return undefined;
  const view = shard.heap().subarray(ptr + from, ptr + from + count);
  return new PagePlacement(view, shard, page, ptr, from);
}

/**
 * The payload is in, or will never come: what the view holds stays where it is. Answers the
 * pages placed, [first, end), and how many of them were freed for holding only zeroes.
 */
export function releasePlacement(
  placement: Placement,
): { first: number; end: number; freed: number } {
  const { shard, page, ptr, from, view } = placement as PagePlacement;
  const freed = shard.exports.settleRun(page, ptr, from, view.length); // unpins, frees zero pages
  return { first: page, end: page + Math.ceil((from + view.length) / PAGE_SIZE), freed };
}
