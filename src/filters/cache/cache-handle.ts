/**
 * One connection through the cache filter: capabilities as nbdkit's cache.c answers them, and
 * each request served from or kept in the shared cache (cache-store.ts).
 *
 * Where nbdts parts from nbdkit 1.32.5: block status reports the blocks the cache holds dirty
 * as data (nbdkit passes the plugin's map through, which calls data never flushed a hole, so
 * a copier skips it); a trim lets go of the cached blocks it covers and of clean ones it
 * touches before passing through (nbdkit keeps them, so a read could contradict the map); and
 * a read the cache does not keep asks the layer below for just the bytes wanted.
 */

import { ERRNO, NbdError } from "../../api/errors.ts";
import type { FilterHandle, NextHandle } from "../../api/filter.ts";
import { addOffset, compareOffsets, subtractOffset } from "../../api/offset.ts";
import { CACHE_MODE, EXTENT, FLAG, FUA_MODE, type Offset } from "../../api/plugin.ts";
import { ASK_BELOW, extentsOver } from "../blocks/extents-over.ts";
import type { OnReadSwitch } from "../blocks/on-read-switch.ts";
import { withPreferred } from "../blocks/preferred-block-size.ts";
import { type CacheStore, CLEAN, WRITTEN_BACK_LATER, WRITTEN_THROUGH } from "./cache-store.ts";

/** Extent types by block state: dirty blocks (written back or not yet) are data. */
const EXTENT_TYPES = [ASK_BELOW, ASK_BELOW, EXTENT.DATA, EXTENT.DATA];

/** Most blocks read from below at once for one cache request. */
const MAX_CACHE_RUN_BYTES = 1024 * 1024;

export function cacheHandle(
  cache: CacheStore,
  below: NextHandle,
  onRead: OnReadSwitch,
): FilterHandle {
  const { kept, mode } = cache;
  const { geometry } = kept;
  const unsafe = mode === "unsafe";
  /** Whether a write with these flags goes below at once. */
  const through = (flags: number) =>
    mode === "writethrough" || (mode === "writeback" && (flags & FLAG.FUA) !== 0);
  return {
    async prepare() {
      geometry.size = await below.getSize();
    },
    getSize: () => geometry.size,
    canCache: () => CACHE_MODE.NATIVE,
    canFastZero: () => true, // offered, though every fast zero fails (nbdkit)
    canFlush: () => unsafe || below.canFlush(),
    canFua: () => unsafe ? FUA_MODE.NATIVE : below.canFua(),
    // Flushing writes back every connection's blocks, so one flush covers all of them.
    canMultiConn: () => mode === "writethrough" ? below.canMultiConn() : true,
    blockSize: async () => withPreferred(await below.blockSize(), geometry.blockSize),
    readAt: (buf, offset) => cache.after(kept.read(below, buf, offset, onRead.enabled()), below),
    writeAt(buf, offset, flags) {
      if (through(flags)) return changeThrough(cache, below, buf, buf.length, offset, flags);
      return cache.after(kept.write(below, buf, offset, WRITTEN_BACK_LATER), below);
    },
    zero(count, offset, flags) {
      if (flags & FLAG.FAST_ZERO) {
        throw new NbdError(ERRNO.ENOTSUP, "cache: zeroing is never faster than writing");
      }
      if (through(flags)) return changeThrough(cache, below, undefined, count, offset, flags);
      return cache.after(kept.zero(below, count, offset, WRITTEN_BACK_LATER), below);
    },
    trim(count, offset, flags) {
      forgetTrimmed(cache, count, offset);
      return below.trim(count, offset, flags);
    },
    flush: () => unsafe ? undefined : cache.flush(below),
    cache: (count, offset) => prefetch(cache, below, count, offset),
    extents: (count, offset, flags, sink) =>
      extentsOver(kept, below, count, offset, flags, sink, EXTENT_TYPES),
  };
}

/**
 * A write (`buf`) or zero (`buf` undefined) made below at once (writethrough, or FUA), then
 * in the cache: the blocks it holds get the new bytes.
 */
async function changeThrough(
  cache: CacheStore,
  below: NextHandle,
  buf: Uint8Array | undefined,
  count: number,
  offset: Offset,
  flags: number,
): Promise<void> {
  const fua = flags & FLAG.FUA;
  await (buf ? below.writeAt(buf, offset, fua) : below.zero(count, offset, fua));
  await cache.after(cache.kept.change(below, buf, count, offset, WRITTEN_THROUGH), below);
}

/**
 * Before a trim goes below: blocks it covers whole leave the cache, whatever they held (the
 * trim discards it), and so do clean blocks it covers in part; a dirty block in part stays.
 */
function forgetTrimmed(cache: CacheStore, count: number, offset: Offset): void {
  const { geometry, states } = cache.kept;
  const end = addOffset(offset, count);
  const first = geometry.blockOf(offset);
  const last = geometry.blockOf(subtractOffset(end, 1));
  for (let block = first; block <= last; block++) {
    const whole = (block !== first || geometry.inBlock(offset) === 0) &&
      (block !== last || geometry.inBlock(end) === 0 || compareOffsets(end, geometry.size) >= 0);
    if (whole || states.get(block) === CLEAN) cache.kept.drop(block, 1);
  }
}

/**
 * A cache (prefetch) request, rounded out to whole blocks: blocks not cached are read from
 * below and kept, whether or not cache-on-read is on (as nbdkit).
 */
async function prefetch(
  cache: CacheStore,
  below: NextHandle,
  count: number,
  offset: Offset,
): Promise<void> {
  const { geometry, states } = cache.kept;
  const end = geometry.blockOf(addOffset(offset, count - 1)) + 1;
  const most = Math.max(1, Math.floor(MAX_CACHE_RUN_BYTES / geometry.blockSize));
  for (let block = geometry.blockOf(offset); block < end;) {
    const run = Math.min(states.runLength(block, end), most);
    if (states.get(block) === 0) await cache.kept.fillRun(below, block, run);
    else cache.kept.used?.(block, run);
    block += run;
  }
  await cache.reclaim(below);
}
