// Hands out power-of-two blocks of linear memory, recycling freed ones by size and growing memory
// only up to this instance's limit; it never traps, it answers 0 when no block can be had.
//
// Blocks are aligned to their own size, so pages never straddle anything and v128 loads of a
// page are aligned. A freed block's first u32 links it into the free list of its size class;
// memory never shrinks (WebAssembly cannot), but freed pages are reused before memory grows.

import { MAX_WASM_PAGES } from "./layout";

/** Heads of the free lists, one u32 per size class 0..31. */
const FREE_HEADS: usize = memory.data(32 * 4);

/** How many blocks wait on each free list, one u32 per size class 0..31. */
const FREE_COUNTS: usize = memory.data(32 * 4);

/** Below this address everything has been handed out once; above it memory is untouched. */
let top: usize = (__heap_base + 15) & ~(<usize>15);

/** The most WASM pages this instance may grow to. */
let limitPages: i32 = MAX_WASM_PAGES;

/** Smallest memory growth, in WASM pages (1 MiB): few grows, little unused memory. */
const MIN_GROW: i32 = 16;

/** Bytes handed out so far, in use or on free lists: what the instance's memory really holds. */
export function heapEnd(): usize {
  return top;
}

export function setLimit(pages: i32): void {
  limitPages = min(max(pages, memory.size()), MAX_WASM_PAGES);
}

/** A block of 2^sizeClass bytes, zero-filled when `zeroed`, or 0 when memory is exhausted. */
export function allocBlock(sizeClass: u32, zeroed: bool): usize {
  const head = FREE_HEADS + (<usize>sizeClass << 2);
  const block = <usize>load<u32>(head);
  if (block != 0) {
    store<u32>(head, load<u32>(block));
    const count = FREE_COUNTS + (<usize>sizeClass << 2);
    store<u32>(count, load<u32>(count) - 1);
    if (zeroed) memory.fill(block, 0, <usize>1 << sizeClass);
    else store<u32>(block, 0);
    return block;
  }
  const size: u64 = <u64>1 << sizeClass;
  const start: u64 = (<u64>top + size - 1) & ~(size - 1);
  if (!ensure(start + size)) return 0;
  recycleGap(start);
  top = <usize>(start + size);
  return <usize>start; // fresh memory: already zero
}

/** Puts a block back on its free list. */
export function freeBlock(block: usize, sizeClass: u32): void {
  const head = FREE_HEADS + (<usize>sizeClass << 2);
  store<u32>(block, load<u32>(head));
  store<u32>(head, <u32>block);
  const count = FREE_COUNTS + (<usize>sizeClass << 2);
  store<u32>(count, load<u32>(count) + 1);
}

/** Blocks of 2^sizeClass bytes waiting on their free list. */
export function freeBlocks(sizeClass: u32): u32 {
  return load<u32>(FREE_COUNTS + (<usize>sizeClass << 2));
}

/** Makes memory reach `end`, growing in steps of at least MIN_GROW pages, within the limit. */
function ensure(end: u64): bool {
  const current = memory.size();
  const have: u64 = <u64>current << 16;
  if (end <= have) return true;
  const need = <i32>((end - have + 0xffff) >> 16);
  if (current + need > limitPages) return false;
  const step = min(max(need, max(MIN_GROW, current >> 3)), limitPages - current);
  if (memory.grow(step) >= 0) return true;
  return step != need && memory.grow(need) >= 0;
}

/** Alignment skipped [top, end): hand its pieces to the free lists instead of losing them. */
function recycleGap(end: u64): void {
  let at: u64 = <u64>top;
  while (at < end) {
    let sizeClass: u32 = <u32>ctz<u64>(at);
    while (at + (<u64>1 << sizeClass) > end) sizeClass--;
    if (sizeClass >= 4) freeBlock(<usize>at, sizeClass); // smaller crumbs are never asked for
    at += <u64>1 << sizeClass;
  }
}
