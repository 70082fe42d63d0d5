/**
 * One connection through the cow filter: its capabilities (nbdkit's cow.c), and each request
 * turned into work on the shared overlay. Reads and writes are the overlay's own (kept-blocks.ts);
 * trim marks whole blocks trimmed (they read as zeroes and are holes in the map) and zeroes the
 * partial ones through the overlay; flush and FUA have nothing to do, since the overlay is thrown
 * away at exit anyway. WRITE_ZEROES is left to the read-only layer below, which takes it away, as
 * in nbdkit 1.32.5: clients write zeroes instead.
 */

import type { FilterHandle, NextHandle } from "../../api/filter.ts";
import { isThenable } from "../../api/maybe-promise.ts";
import { addOffset, bytesBefore, subtractOffset } from "../../api/offset.ts";
import { CACHE_MODE, EXTENT, FUA_MODE, type MaybePromise, type Offset } from "../../api/plugin.ts";
import type { NextStates } from "../blocks/block-states.ts";
import { KEPT, type KeptBlocks } from "../blocks/kept-blocks.ts";
import { withPreferred } from "../blocks/preferred-block-size.ts";
import type { OnReadSwitch } from "../blocks/on-read-switch.ts";
import { ASK_BELOW, extentsOver } from "../blocks/extents-over.ts";

/** The cow filter's options, the same for every connection once configuration is complete. */
export interface CowOptions {
  readonly onCache: boolean;
  readonly onRead: OnReadSwitch;
}

/** A block trimmed whole: it reads as zeroes and is a hole (nbdkit's BLOCK_TRIMMED). */
export const TRIMMED = 3;

/** Whatever a block was, once written it is in the overlay (nbdkit's BLOCK_ALLOCATED). */
const ALLOCATED: NextStates = [KEPT, KEPT, KEPT, KEPT];

/**
 * Extent types by block state: blocks in the overlay are data, trimmed ones holes; the layer
 * below tells about the rest.
 */
const EXTENT_TYPES = [ASK_BELOW, EXTENT.DATA, ASK_BELOW, EXTENT.HOLE | EXTENT.ZERO];

/** Smallest READ lent from the overlay's pages rather than copied (the memory plugin's). */
const LEND_MIN = 32 * 1024;

/** Most blocks read from below at once for one cache request. */
const MAX_CACHE_RUN_BYTES = 1024 * 1024;

export function cowHandle(
  overlay: KeptBlocks,
  below: NextHandle,
  options: CowOptions,
): FilterHandle {
  const { geometry } = overlay;
  const { onRead } = options;
  return {
    async prepare() {
      // The overlay is laid over the disk's size, which must not change (as in nbdkit).
      geometry.size = await below.getSize();
    },
    getSize: () => geometry.size,
    canWrite: () => true,
    canFlush: () => true,
    canTrim: () => true,
    canFua: () => FUA_MODE.NATIVE,
    canExtents: () => true,
    canCache: () => CACHE_MODE.NATIVE,
    canMultiConn: () => true, // every connection sees the one overlay
    blockSize: async () => withPreferred(await below.blockSize(), geometry.blockSize),
    readAt: (buf, offset) => overlay.read(below, buf, offset, onRead.enabled()),
    // Reads wholly in the overlay go out as views of its pages (the overlay never lets a
    // block go, which lending needs); smaller ones are cheaper copied, as for memory.
    readViews: (count, offset) => count < LEND_MIN ? undefined : overlay.lend(count, offset),
    writeAt: (buf, offset) => overlay.write(below, buf, offset, ALLOCATED),
    trim: (count, offset) => trim(overlay, below, count, offset),
    flush() {},
    cache: (count, offset) => cache(overlay, below, count, offset, options.onCache),
    extents: (count, offset, flags, sink) =>
      extentsOver(overlay, below, count, offset, flags, sink, EXTENT_TYPES),
  };
}

/**
 * Whole blocks in the range are marked trimmed and their memory freed; the bytes of partial
 * blocks at either end are zeroed through the overlay, which keeps the rest of them.
 */
function trim(
  overlay: KeptBlocks,
  below: NextHandle,
  count: number,
  offset: Offset,
): MaybePromise<void> {
  const { geometry } = overlay;
  const end = addOffset(offset, count);
  const firstWhole = geometry.blockOf(offset) + (geometry.inBlock(offset) === 0 ? 0 : 1);
  const endWhole = geometry.blockOf(end);
  if (firstWhole >= endWhole) return overlay.zero(below, count, offset, ALLOCATED);
  const bodyStart = geometry.startOf(firstWhole);
  const bodyBytes = (endWhole - firstWhole) * geometry.blockSize;
  overlay.store.zero(bodyBytes, bodyStart);
  overlay.states.setRun(firstWhole, endWhole - firstWhole, TRIMMED);
  const headBytes = Number(subtractOffset(bodyStart, offset));
  const tailBytes = count - headBytes - bodyBytes;
  const head = headBytes > 0 ? overlay.zero(below, headBytes, offset, ALLOCATED) : undefined;
  if (tailBytes === 0) return head;
  const tailStart = addOffset(bodyStart, bodyBytes);
  if (isThenable(head)) return zeroLater(overlay, below, head, tailBytes, tailStart);
  return overlay.zero(below, tailBytes, tailStart, ALLOCATED);
}

async function zeroLater(
  overlay: KeptBlocks,
  below: NextHandle,
  pending: PromiseLike<void>,
  count: number,
  offset: Offset,
): Promise<void> {
  await pending;
  await overlay.zero(below, count, offset, ALLOCATED);
}

/**
 * A cache (prefetch) request, rounded out to whole blocks: blocks in the overlay need nothing;
 * the others are read into the overlay with cow-on-cache=true, else passed to the layer below
 * as a cache request, unless it cannot take one (then nothing is done, as nbdkit).
 */
async function cache(
  overlay: KeptBlocks,
  below: NextHandle,
  count: number,
  offset: Offset,
  onCache: boolean,
): Promise<void> {
  const { geometry, states } = overlay;
  const mode = await below.canCache();
  if (!onCache && mode === CACHE_MODE.NONE) return;
  const end = geometry.blockOf(addOffset(offset, count - 1)) + 1;
  const most = Math.max(1, Math.floor(MAX_CACHE_RUN_BYTES / geometry.blockSize));
  for (let block = geometry.blockOf(offset); block < end;) {
    const run = Math.min(states.runLength(block, end), most);
    if (states.get(block) === 0) {
      if (onCache) await overlay.fillRun(below, block, run);
      else {
        const start = geometry.startOf(block);
        await below.cache(bytesBefore(start, run * geometry.blockSize, geometry.size), start, 0);
      }
    }
    block += run;
  }
}
