// The two-level page directory drawn in layout.ts: find, create and release a page by index.
//
// Invariants: L1 entries are sorted by region and unique; every L2 table has `used` > 0 pages,
// `used` counts its non-zero slots; a slot holds a page pointer or 0 (reads as zero), plus in its
// low bits the page's pins: a pinned page is never freed, so no other data can move into it
// while a write payload is being received into it or a read reply is being sent from it.

import { allocBlock, freeBlock, freeBlocks } from "./heap";
import {
  L1_ENTRY_SHIFT,
  L1_MIN_CLASS,
  L1_REGION,
  L1_TABLE,
  L1_USED,
  L2_CLASS,
  L2_MASK,
  L2_SHIFT,
  PAGE_CLASS,
  PAGE_SHIFT,
  PAGE_SIZE,
  SLOT_PINS,
} from "./layout";

/** The L1 array: address, entries in use, capacity in entries, and its size class. */
let l1: usize = 0;
let l1Length: u32 = 0;
let l1Capacity: u32 = 0;
let l1Class: u32 = 0;

/** The entry the last search found: sequential I/O asks for it or its successor next. */
let hint: u32 = 0;

/** Data pages currently in the directory. */
let pagesInUse: u32 = 0;

export function entryCount(): u32 {
  return l1Length;
}

export function pageCount(): u32 {
  return pagesInUse;
}

// @ts-ignore: decorator
@inline export function entryAt(index: u32): usize {
  return l1 + (<usize>index << L1_ENTRY_SHIFT);
}

// @ts-ignore: decorator
@inline export function regionAt(index: u32): u64 {
  return load<u64>(entryAt(index), L1_REGION);
}

/** Index of the first entry whose region is at or after `region` (l1Length if none). */
export function lowerBound(region: u64): u32 {
  const h = hint;
  if (h < l1Length) {
    const r = regionAt(h);
    if (r == region) return h;
    if (r < region && (h + 1 == l1Length || regionAt(h + 1) >= region)) return (hint = h + 1);
  }
  let lo: u32 = 0;
  let hi: u32 = l1Length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (regionAt(mid) < region) lo = mid + 1;
    else hi = mid;
  }
  return (hint = lo);
}

/** Address of the slot for `page`, or 0 when its region has no L2 table. */
export function slotOf(page: u64): usize {
  const region = page >> L2_SHIFT;
  const index = lowerBound(region);
  if (index >= l1Length || regionAt(index) != region) return 0;
  return <usize>load<u32>(entryAt(index), L1_TABLE) + (<usize>(page & L2_MASK) << 2);
}

/** The page's address, or 0 when it reads as zero. */
export function lookupPage(page: u64): usize {
  const slot = slotOf(page);
  return slot == 0 ? 0 : <usize>(load<u32>(slot) & ~SLOT_PINS);
}

/** The page's address, creating it (zero-filled when `zeroed`); 0 when memory is exhausted. */
export function createPage(page: u64, zeroed: bool): usize {
  const existing = lookupPage(page);
  if (existing != 0) return existing;
  const block = allocBlock(PAGE_CLASS, zeroed);
  if (block == 0) return 0;
  if (!installPage(page, block)) {
    freeBlock(block, PAGE_CLASS);
    return 0;
  }
  return block;
}

/**
 * Creates the absent pages [first, first+count) zero-filled and one after another in memory:
 * the address of the first, or 0 when one of them exists already, memory is exhausted, or
 * freed pages enough for them are waiting to be reused.
 */
export function createRun(first: u64, count: u32): usize {
  // Freed pages are reused before memory grows: while enough wait for this write, it takes them
  // (copied in as usual) rather than fresh memory for a run, or trimming and rewriting would
  // grow memory without bound.
  if (freeBlocks(PAGE_CLASS) >= count) return 0;
  for (let i: u32 = 0; i < count; i++) if (lookupPage(first + i) != 0) return 0;
  const sizeClass = PAGE_SHIFT + (count <= 1 ? 0 : 32 - clz<u32>(count - 1));
  const block = allocBlock(sizeClass, true);
  if (block == 0) return 0;
  const total: u32 = 1 << (sizeClass - PAGE_SHIFT);
  let installed: u32 = 0;
  while (installed < count && installPage(first + installed, block + installed * PAGE_SIZE)) {
    installed++;
  }
  // Without memory for an L2 table, the pages installed so far go again (they are zero). Pages of
  // the block past those installed are ordinary free pages from now on.
  const failed = installed < count;
  if (failed) for (let i: u32 = 0; i < installed; i++) releasePage(first + i);
  for (let i = installed; i < total; i++) freeBlock(block + i * PAGE_SIZE, PAGE_CLASS);
  return failed ? 0 : block;
}

/** Puts `block` in the absent page's slot, adding an L2 table if needed; false without memory. */
function installPage(page: u64, block: usize): bool {
  const region = page >> L2_SHIFT;
  const index = lowerBound(region);
  let entry: usize = 0;
  if (index < l1Length && regionAt(index) == region) {
    entry = entryAt(index);
  } else {
    const table = allocBlock(L2_CLASS, true);
    if (table == 0 || (entry = insertEntry(index, region, table)) == 0) {
      if (table != 0) freeBlock(table, L2_CLASS);
      return false;
    }
  }
  store<u32>(slotIn(entry, page), <u32>block);
  store<u32>(entry, load<u32>(entry, L1_USED) + 1, L1_USED);
  pagesInUse++;
  return true;
}

/**
 * Pins the existing pages [first, first+count) when they lie one after another in memory: the
 * first page's address, or 0, pinning nothing, when one is missing, out of line, or pinned as
 * often as a slot can count.
 */
export function pinRun(first: u64, count: u32): usize {
  let slot: usize = 0;
  let start: usize = 0;
  for (let i: u32 = 0; i < count; i++) {
    slot = nextSlot(first, i, slot);
    if (slot == 0) return 0;
    const word = load<u32>(slot);
    if (i == 0) start = <usize>(word & ~SLOT_PINS);
    const expected = start + <usize>i * PAGE_SIZE;
    if (start == 0 || <usize>(word & ~SLOT_PINS) != expected || (word & SLOT_PINS) == SLOT_PINS) {
      return 0;
    }
  }
  for (let i: u32 = 0; i < count; i++) {
    slot = nextSlot(first, i, slot);
    store<u32>(slot, load<u32>(slot) + 1);
  }
  return start;
}

/** Takes one pin off each pinned page of [first, first+count) (pinned by pinRun). */
export function unpinRun(first: u64, count: u32): void {
  let slot: usize = 0;
  for (let i: u32 = 0; i < count; i++) {
    slot = nextSlot(first, i, slot);
    if (slot != 0 && (load<u32>(slot) & SLOT_PINS) != 0) store<u32>(slot, load<u32>(slot) - 1);
  }
}

/**
 * The slot of page first+i, walking a run: slots of one region lie side by side, so only the
 * first page and each new region need a search. `slot` is the previous page's slot; 0 if none.
 */
// @ts-ignore: decorator
@inline function nextSlot(first: u64, i: u32, slot: usize): usize {
  const page = first + i;
  return i == 0 || (page & L2_MASK) == 0 || slot == 0 ? slotOf(page) : slot + 4;
}

/**
 * Frees the page if it exists, and its L2 table if that was its last page. Callers release only
 * pages that read as zero, so a pinned page simply stays.
 */
export function releasePage(page: u64): void {
  const region = page >> L2_SHIFT;
  const index = lowerBound(region);
  if (index >= l1Length || regionAt(index) != region) return;
  const entry = entryAt(index);
  const slot = slotIn(entry, page);
  const word = load<u32>(slot);
  if (word == 0 || (word & SLOT_PINS) != 0) return;
  const block = <usize>word;
  store<u32>(slot, 0);
  freeBlock(block, PAGE_CLASS);
  pagesInUse--;
  const used = load<u32>(entry, L1_USED) - 1;
  if (used == 0) removeEntry(index);
  else store<u32>(entry, used, L1_USED);
}

/**
 * Frees every page in [first, end), visiting only the regions that have tables; a pinned page is
 * zero-filled instead, so it reads as zero and stays where its payload is going.
 */
export function releaseRange(first: u64, end: u64): void {
  if (first >= end) return;
  const lastRegion = (end - 1) >> L2_SHIFT;
  let index = lowerBound(first >> L2_SHIFT);
  while (index < l1Length) {
    const entry = entryAt(index);
    const region = load<u64>(entry, L1_REGION);
    if (region > lastRegion) break;
    const base = region << L2_SHIFT;
    const table = <usize>load<u32>(entry, L1_TABLE);
    let used = load<u32>(entry, L1_USED);
    const low = <usize>(max(first, base) - base);
    // Last slot first: the free list hands pages out in reverse, so a range freed and written
    // again in order gets pages that follow one another in memory (see pageRun).
    for (let slot = <usize>(min(end - base, L2_MASK + 1)); slot > low && used > 0;) {
      const at = table + (--slot << 2);
      const word = load<u32>(at);
      if (word == 0) continue;
      const block = <usize>(word & ~SLOT_PINS);
      if ((word & SLOT_PINS) != 0) {
        memory.fill(block, 0, PAGE_SIZE);
        continue;
      }
      store<u32>(at, 0);
      freeBlock(block, PAGE_CLASS);
      pagesInUse--;
      used--;
    }
    if (used == 0) {
      removeEntry(index); // the next entry slides into `index`
    } else {
      store<u32>(entry, used, L1_USED);
      index++;
    }
  }
}

// @ts-ignore: decorator
@inline function slotIn(entry: usize, page: u64): usize {
  return <usize>load<u32>(entry, L1_TABLE) + (<usize>(page & L2_MASK) << 2);
}

/** Inserts an entry at `index`, doubling the L1 array when full; its address, or 0. */
function insertEntry(index: u32, region: u64, table: usize): usize {
  if (l1Length == l1Capacity) {
    const newClass = l1Capacity == 0 ? L1_MIN_CLASS : l1Class + 1;
    const grown = allocBlock(newClass, false);
    if (grown == 0) return 0;
    if (l1 != 0) {
      memory.copy(grown, l1, <usize>l1Length << L1_ENTRY_SHIFT);
      freeBlock(l1, l1Class);
    }
    l1 = grown;
    l1Class = newClass;
    l1Capacity = <u32>((<usize>1 << newClass) >> L1_ENTRY_SHIFT);
  }
  const entry = entryAt(index);
  memory.copy(entry + (1 << L1_ENTRY_SHIFT), entry, <usize>(l1Length - index) << L1_ENTRY_SHIFT);
  store<u64>(entry, region, L1_REGION);
  store<u32>(entry, <u32>table, L1_TABLE);
  store<u32>(entry, 0, L1_USED);
  l1Length++;
  hint = index;
  return entry;
}

/** Frees the entry's (empty) L2 table and closes the gap in L1. */
function removeEntry(index: u32): void {
  const entry = entryAt(index);
  freeBlock(<usize>load<u32>(entry, L1_TABLE), L2_CLASS);
  l1Length--;
  memory.copy(entry, entry + (1 << L1_ENTRY_SHIFT), <usize>(l1Length - index) << L1_ENTRY_SHIFT);
  if (hint >= l1Length) hint = 0;
}
