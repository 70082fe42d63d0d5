// The sparse page store's operations as the JS side calls them: numbers in, numbers out.
//
// Page indices arrive as f64 (exact below 2^53; ours stay below 2^51) because an i64 parameter
// would make JS pass a BigInt. JS copies bytes straight between its Uint8Array and the page
// this module points it at, so each byte is copied once.

import {
  createPage,
  createRun,
  lookupPage,
  pageCount,
  pinRun,
  releasePage,
  releaseRange,
  unpinRun,
} from "./directory";
import { runEnd } from "./extents";
import { allocBlock, freeBlock, heapEnd, setLimit } from "./heap";
import { MODE_LOOKUP, MODE_OVERWRITE, PAGE_SIZE } from "./layout";
import { isZero } from "./zero";

/** Caps this instance's memory at `maxWasmPages` × 64 KiB (at most 65535). */
export function init(maxWasmPages: i32): void {
  setLimit(maxWasmPages);
}

export function pageSize(): u32 {
  return PAGE_SIZE;
}

/** Bytes of memory used so far: pages, directory and free blocks (memory beyond is untouched). */
export function memoryBytes(): u32 {
  return <u32>heapEnd();
}

/** Data pages in use. */
export function allocatedPages(): u32 {
  return pageCount();
}

/**
 * The address of page `page`. MODE_LOOKUP: 0 when it reads as zero. MODE_CREATE: creates it
 * zero-filled. MODE_OVERWRITE: creates it with undefined content that the caller overwrites
 * whole. Creating answers 0 when this instance has no memory left.
 */
export function pageFor(page: f64, mode: u32): usize {
  const index = <u64>page;
  if (mode == MODE_LOOKUP) return lookupPage(index);
  return createPage(index, mode != MODE_OVERWRITE);
}

/**
 * Called after JS wrote `length` bytes at `ptr + from`, where `ptr` is page `page` and the pages
 * after it follow in memory (see pageRun): frees each page that is now all zero, so zero writes
 * allocate nothing. Answers how many pages it freed.
 */
export function afterWrite(page: f64, ptr: usize, from: u32, length: u32): u32 {
  let index = <u64>page;
  let at = ptr + from;
  const end = at + length;
  let freed: u32 = 0;
  for (let start = ptr; at < end; start += PAGE_SIZE, index++) {
    const pageEnd = start + PAGE_SIZE;
    const stop = min(end, pageEnd);
    // Written bytes first: a non-zero byte there, the usual case, ends the check early.
    if (isZero(at, stop - at) && isZero(start, at - start) && isZero(stop, pageEnd - stop)) {
      releasePage(index);
      freed++;
    }
    at = stop;
  }
  return freed;
}

/**
 * How many pages from `page` (at `ptr`) on, at most `maxPages`, lie one after another in
 * memory, so JS can copy them with one call. Pages written in order usually do.
 */
export function pageRun(page: f64, ptr: usize, maxPages: u32): u32 {
  let index = <u64>page + 1;
  let next = ptr + PAGE_SIZE;
  let count: u32 = 1;
  while (count < maxPages && lookupPage(index) == next) {
    count++;
    index++;
    next += PAGE_SIZE;
  }
  return count;
}

/**
 * Readies pages [page, page+count) to receive a write payload in place: they exist, lie one
 * after another in memory (absent pages are created together, zero-filled; existing ones must
 * already form such a run) and are pinned, so they are never freed, until settleRun. Answers the
 * first page's address, or 0 when that cannot be done (the caller then writes as usual).
 */
export function placeRun(page: f64, count: u32): usize {
  const first = <u64>page;
  const ptr = pinRun(first, count);
  if (ptr != 0) return ptr;
  return createRun(first, count) == 0 ? 0 : pinRun(first, count);
}

/**
 * Pins the existing pages [page, page+count), which must lie one after another in memory (a run
 * pageRun found), so that a read reply can send them from where they are: they are never freed,
 * so never hold another offset's data, until settleRun. Answers the first page's address, or 0,
 * pinning nothing, when one is missing, out of line, or pinned as often as a slot can count.
 */
export function pinPages(page: f64, count: u32): usize {
  return pinRun(<u64>page, count);
}

/**
 * The payload placeRun made room for is in (or never will be), or the reply pinPages pinned for
 * has been sent: takes the pins off the pages, then frees those left all zero (a zero or trim
 * came meanwhile), as afterWrite does. Answers how many it freed.
 */
export function settleRun(page: f64, ptr: usize, from: u32, length: u32): u32 {
  unpinRun(<u64>page, (from + length + PAGE_SIZE - 1) / PAGE_SIZE);
  return afterWrite(page, ptr, from, length);
}

/** Zeroes [from, from+length) of a page, freeing it when it becomes all zero. */
export function zeroInPage(page: f64, from: u32, length: u32): void {
  const index = <u64>page;
  const ptr = lookupPage(index);
  if (ptr == 0) return;
  memory.fill(ptr + from, 0, length);
  if (isZero(ptr, PAGE_SIZE)) releasePage(index);
}

/** Frees every page in [first, end). */
export function freePages(first: f64, end: f64): void {
  releaseRange(<u64>first, <u64>end);
}

/** The first page at or after `start` whose presence differs from `start`'s, at most `limit`. */
export function presenceEnd(start: f64, limit: f64): f64 {
  return <f64>runEnd(<u64>start, <u64>limit);
}

let scratchBlock: usize = 0;
let scratchClass: u32 = 0;

/** A reusable buffer of at least `length` bytes (for tests and rare JS-side checks), or 0. */
export function scratch(length: u32): usize {
  let sizeClass: u32 = 4;
  while ((<u64>1 << sizeClass) < <u64>length) sizeClass++;
  if (scratchBlock != 0 && sizeClass <= scratchClass) return scratchBlock;
  if (scratchBlock != 0) freeBlock(scratchBlock, scratchClass);
  scratchBlock = allocBlock(sizeClass, false);
  scratchClass = sizeClass;
  return scratchBlock;
}
