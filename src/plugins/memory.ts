/**
 * The memory plugin (man nbdkit-memory-plugin): a RAM disk of up to 2^63-1 bytes, all zero at
 * start, shared by every connection and gone at exit. Storage is an allocator (allocator=sparse
 * by default, or malloc); nothing is persistent, so flush, FUA and cache are no-ops.
 */

import { createAllocator } from "../allocators/create.ts";
import type { Allocator, Placement } from "../allocators/allocator.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { ConfigError } from "../api/errors.ts";
import {
  CACHE_MODE,
  FUA_MODE,
  type Handle,
  type Offset,
  type Plugin,
  THREAD_MODEL,
} from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

/**
 * Smallest write payload received in place. Below it, copying costs less than making room and
 * keeping track of it (callgrind, random 4 KiB writes: 45.8k instructions a request in place,
 * 43.9k copied).
 */
const PLACE_MIN = 32 * 1024;

/**
 * Smallest READ sent as views of the pages rather than copied into a reply buffer. Lending
 * itself is cheaper at every size (lend + release of 4 KiB: 0.2-0.4 us against a 0.3-0.9 us
 * copy; 32 KiB: 0.5-1 us against 2.5-6 us, Bun and Deno); but a view goes out as a part of its
 * own, and Deno and Bun write each part of 16 KiB or more with one call (src/runtime/gather.ts)
 * and copy smaller ones into their staging buffer anyway. From 32 KiB the copy saved outweighs
 * the header's extra write; below, the copy is the cheaper way.
 */
const LEND_MIN = 32 * 1024;

export function createMemoryPlugin(): Plugin {
  let size: bigint | undefined;
  let allocatorSpec = "sparse";
  let store: Allocator | undefined;

  return {
    name: "memory",
    version: VERSION,
    description: "A virtual memory (RAM disk) plugin: the disk lives in memory until exit",
    configHelp: "size=<SIZE>  (required) Size of the backing disk\n" +
      "allocator=sparse|malloc  How to store the disk (default: sparse)",
    magicConfigKey: "size",

    config(key, value) {
      if (key === "size") size = parseSize(value);
      else if (key === "allocator") allocatorSpec = value;
      else throw new ConfigError(`unknown parameter '${key}'`);
    },

    configComplete() {
      if (size === undefined) {
        throw new ConfigError("you must specify size=<SIZE> on the command line");
      }
      // Made now, not per connection: every client sees the same disk, and a malloc store too
      // big for this runtime is refused before the server listens.
      store = createAllocator(allocatorSpec, size);
    },

    unload() {
      store = undefined; // lets the runtime reclaim the memory
    },

    // Neither feature exists here: a plain "no" is what nbdkit prints without mlock or zstd.
    dumpPlugin: () => ["mlock=no", "zstd=no"],

    threadModel: () => THREAD_MODEL.PARALLEL,

    // Before configComplete (only --dump-plugin opens one then, to list the methods) the
    // handle has no disk behind it: it is closed again without a call.
    // Large counts: a zero, trim or map of the whole disk (up to 2^63-1) is one call, as the
    // allocators free and walk pages by runs, never one page at a time.
    open(): Handle<Offset> {
      const disk = store!;
      const diskSize = toOffset(size ?? 0n);
      /** Payloads being received in place, by their view (this connection's, so few). */
      const placements = new Map<Uint8Array, Placement>();
      return {
        largeCounts: true,
        getSize: () => diskSize,
        readAt: (buf, offset) => disk.read(buf, offset),
        // The server releases every loan once the runtime is done with it, also when the
        // connection goes away; close() must not, since a reply may still be on its way.
        readViews: (count, offset) => count < LEND_MIN ? undefined : disk.lend?.(count, offset),
        payloadBuffer(count, offset) {
          if (count < PLACE_MIN) return undefined;
          const placement = disk.place?.(count, offset);
          if (!placement) return undefined;
          placements.set(placement.view, placement);
          return placement.view;
        },
        writeAt(buf, offset) { // FUA: nothing to flush
          const placement = placements.size > 0 ? placements.get(buf) : undefined;
          if (!placement) return disk.write(buf, offset);
          placements.delete(buf);
          disk.release!(placement); // the bytes are in place already
        },
        close() {
          for (const placement of placements.values()) disk.release!(placement, false);
          placements.clear();
        },
        zero: (count, offset) => disk.zero(count, offset), // frees pages: always fast
        trim: (count, offset) => disk.zero(count, offset), // in memory a trim is a zero
        flush() {},
        cache() {}, // everything is in memory already
        extents: (count, offset, _flags, sink) => disk.extents(count, offset, sink),
        canMultiConn: () => true,
        canFua: () => FUA_MODE.NATIVE,
        canCache: () => CACHE_MODE.NATIVE,
        canFastZero: () => true,
      };
    },
  };
}
