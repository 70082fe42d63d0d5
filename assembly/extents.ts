// Finds where a run of present (or absent) pages ends, reading the directory rather than pages:
// a hole spanning unused 2 MiB regions costs one step per L1 entry, not one per page.

import { entryAt, entryCount, lowerBound, regionAt } from "./directory";
import { L1_TABLE, L1_USED, L2_MASK, L2_SHIFT, L2_SLOTS } from "./layout";

/**
 * The first page at or after `start` whose presence differs from that of `start`, or `limit`
 * if there is none before it. A page is present when it holds data (it is never all zero).
 */
export function runEnd(start: u64, limit: u64): u64 {
  if (start >= limit) return limit;
  let region = start >> L2_SHIFT;
  let index = lowerBound(region);
  let slot = <u32>(start & L2_MASK);
  const count = entryCount();
  const here = index < count && regionAt(index) == region;

  if (here && load<u32>(tableAt(index) + (<usize>slot << 2)) != 0) {
    // A run of data: follow set slots, then adjacent regions.
    while (true) {
      slot = load<u32>(entryAt(index), L1_USED) == L2_SLOTS
        ? L2_SLOTS
        : firstSlot(tableAt(index), slot, false);
      const end = (region << L2_SHIFT) + slot;
      if (slot < L2_SLOTS || end >= limit) return min(end, limit);
      index++;
      region++;
      if (index >= count || regionAt(index) != region) return min(end, limit);
      slot = 0;
    }
  }

  // A hole: the first set slot in this region after `start`, else in the next table.
  if (here) {
    slot = firstSlot(tableAt(index), slot, true);
    if (slot < L2_SLOTS) return min((region << L2_SHIFT) + slot, limit);
    index++;
  }
  if (index >= count) return limit;
  const base = regionAt(index) << L2_SHIFT;
  if (base >= limit) return limit;
  return min(base + firstSlot(tableAt(index), 0, true), limit);
}

// @ts-ignore: decorator
@inline function tableAt(index: u32): usize {
  return <usize>load<u32>(entryAt(index), L1_TABLE);
}

/** The first slot at or after `from` that is set (`set`) or empty (!`set`); L2_SLOTS if none. */
function firstSlot(table: usize, from: u32, set: bool): u32 {
  let slot = from;
  while (slot < L2_SLOTS && (load<u32>(table + (<usize>slot << 2)) != 0) != set) slot++;
  return slot;
}
