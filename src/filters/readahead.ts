/**
 * The readahead filter (man nbdkit-readahead-filter, nbdkit 1.32's): each read also asks the
 * layer below, in the background, to cache (NBD_CMD_CACHE) the window of bytes after it. The
 * window starts at 32 KiB, doubles (up to 4 MiB) when a read jumps past everything prefetched,
 * stays while reads move forward, and falls back to 32 KiB when they do not; like nbdkit's, it
 * is one window for the whole server. Prefetches run one at a time per connection, after the
 * read that asked for them, never holding up a request; their failures are ignored, and the
 * connection closes once those already asked for are done.
 *
 * It does something only when the layer below caches natively and the server runs PARALLEL;
 * otherwise it warns, once per connection, and passes reads through (put --filter=cache after
 * it to give a plugin without cache one).
 */

import { logError } from "../api/error-log.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { addOffset, bytesBefore, compareOffsets } from "../api/offset.ts";
import { CACHE_MODE, type Offset, THREAD_MODEL, type ThreadModel } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { nextTurn } from "./background.ts";

const READAHEAD_MIN = 32 * 1024;
const READAHEAD_MAX = 4 * 1024 * 1024;

/** The window and what the last read asked for, shared by every connection (nbdkit's). */
interface Window {
  size: number;
  lastOffset: Offset;
  lastReadahead: Offset;
}

export function createReadaheadFilter(): Filter {
  const window: Window = { size: READAHEAD_MIN, lastOffset: 0, lastReadahead: 0 };
  let threadModel: ThreadModel | undefined;
  return {
    name: "readahead",
    longname: "nbdts readahead filter",
    version: VERSION,

    getReady(model) {
      threadModel = model;
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const prefetches = new Prefetches(below);
      let working = false;
      let size: Offset = 0;
      return {
        async prepare() {
          size = await below.getSize();
        },
        async canCache() {
          const mode = await below.canCache();
          const parallel = threadModel === THREAD_MODEL.PARALLEL;
          working = mode === CACHE_MODE.NATIVE && parallel;
          if (!working) {
            logError(
              "readahead: warning: underlying plugin does not support NBD_CMD_CACHE or " +
                "PARALLEL thread model, so the filter won't do anything",
            );
            if (parallel) logError("readahead: try adding --filter=cache after this filter");
          }
          return mode;
        },
        readAt(buf, offset) {
          if (working) prefetchAfter(window, prefetches, size, buf.length, offset);
          return below.readAt(buf, offset);
        },
        close: () => prefetches.done(),
      };
    },
  };
}

/** Asks for the window after a read of `count` bytes at `offset`, then adjusts the window. */
function prefetchAfter(
  window: Window,
  prefetches: Prefetches,
  size: Offset,
  count: number,
  offset: Offset,
): void {
  const from = addOffset(offset, count);
  const length = bytesBefore(from, window.size, size);
  if (compareOffsets(window.lastReadahead, offset) < 0) {
    window.size = Math.min(window.size * 2, READAHEAD_MAX);
  } else if (compareOffsets(window.lastOffset, offset) >= 0) {
    window.size = READAHEAD_MIN; // not moving forward
  }
  window.lastOffset = offset;
  window.lastReadahead = addOffset(from, length);
  if (length > 0) prefetches.add(from, length);
}

/**
 * One connection's prefetches, run in the order asked, one at a time, in the background: a
 * queue of offsets and lengths, whose slots are reused once it empties, and the loop that
 * works through it.
 */
class Prefetches {
  private readonly below: NextHandle;
  private readonly offsets: Offset[] = [];
  private readonly lengths: number[] = [];
  private head = 0;
  private tail = 0;
  /** The loop working through the queue, while it runs. */
  private running: Promise<void> | undefined;

  constructor(below: NextHandle) {
    this.below = below;
  }

  add(offset: Offset, length: number): void {
    this.offsets[this.tail] = offset;
    this.lengths[this.tail] = length;
    this.tail++;
    this.running ??= this.run();
  }

  /** Settles once every prefetch asked for so far is done. */
  async done(): Promise<void> {
    await this.running;
  }

  private async run(): Promise<void> {
    while (this.head < this.tail) {
      await nextTurn(); // the read that asked goes first
      const at = this.head++;
      try {
        await this.below.cache(this.lengths[at], this.offsets[at], 0);
      } catch {
        // Advisory: nobody to tell (nbdkit ignores these too).
      }
    }
    this.head = this.tail = 0;
    this.running = undefined;
  }
}
