/**
 * The swab filter (man nbdkit-swab-filter): swaps the bytes of each 16-, 32- or 64-bit word
 * (`swab-bits=`, default 16; 8 swaps nothing) in everything read and written, for disks made
 * on a machine of the other byte order. Requests must start and end on a word (EINVAL
 * otherwise), the size is rounded down to whole words, and the block size tells clients so.
 * A write is swapped into a copy: the caller's buffer is never changed.
 */

import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { extentsAligned } from "../api/filter-extents.ts";
import { isThenable } from "../api/maybe-promise.ts";
import { parseInt32 } from "../api/parse-integer.ts";
import { toOffset } from "../api/parse.ts";
import type { Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

/** The largest request maximum a block size can say: none at all. */
const NO_MAXIMUM = 0xffff_ffff;

export function createSwabFilter(): Filter {
  let bits = 16;
  return {
    name: "swab",
    longname: "nbdts byte-swapping filter",
    version: VERSION,
    configHelp: "swab-bits=8|16|32|64       Size of byte swap (default 16).",

    config(next, key, value) {
      if (key !== "swab-bits") return next(key, value);
      bits = parseInt32("swab-bits", value);
      if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) {
        throw new ConfigError("invalid swab-bits, must be 8, 16, 32 or 64");
      }
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const word = bits / 8;
      const aligned = (count: number, offset: Offset) => {
        const at = typeof offset === "number"
          ? offset % word
          : Number(BigInt(offset) % BigInt(word));
        if (at !== 0 || count % word !== 0) {
          throw new NbdError(ERRNO.EINVAL, "swab: requests to this filter must be aligned");
        }
      };
      return {
        async getSize() {
          const size = BigInt(await below.getSize());
          return toOffset(size - size % BigInt(word));
        },
        async blockSize() {
          const size = await below.blockSize();
          if (size === undefined) return { minimum: word, preferred: 512, maximum: NO_MAXIMUM };
          return { ...size, minimum: Math.max(size.minimum, word) };
        },
        readAt(buf, offset) {
          aligned(buf.length, offset);
          const done = below.readAt(buf, offset);
          if (isThenable(done)) return swapLater(done, buf, word);
          swapWords(buf, buf, word); // read synchronously: swapped with no promise made
        },
        writeAt(buf, offset, flags) {
          aligned(buf.length, offset);
          const swapped = new Uint8Array(buf.length);
          swapWords(swapped, buf, word);
          return below.writeAt(swapped, offset, flags);
        },
        trim(count, offset, flags) {
          aligned(count, offset);
          return below.trim(count, offset, flags);
        },
        zero(count, offset, flags) {
          aligned(count, offset);
          return below.zero(count, offset, flags);
        },
        cache(count, offset, flags) {
          aligned(count, offset);
          return below.cache(count, offset, flags);
        },
        extents(count, offset, flags, sink) {
          aligned(count, offset);
          return extentsAligned(below, count, offset, flags, word, sink);
        },
      };
    },
  };
}

/** Swaps `buf` in place once the read `done` has filled it. */
async function swapLater(done: PromiseLike<void>, buf: Uint8Array, word: number): Promise<void> {
  await done;
  swapWords(buf, buf, word);
}

/**
 * Copies `from` into `to` (the same buffer is fine) with the bytes of each `word`-byte word
 * reversed; both are a whole number of words long.
 */
export function swapWords(to: Uint8Array, from: Uint8Array, word: number): void {
  const end = from.length;
  if (word === 1) {
    if (to !== from) to.set(from);
    return;
  }
  for (let at = 0; at < end; at += word) {
    // Swap from both ends towards the middle, so that in place works too.
    for (let low = at, high = at + word - 1; low <= high; low++, high--) {
      const first = from[low];
      to[low] = from[high];
      to[high] = first;
    }
  }
}
