/**
 * The truncate filter (man nbdkit-truncate-filter): serves the disk below at another size,
 * `truncate=SIZE`, then rounded up or down to a power of two (`round-up=N`, `round-down=N`),
 * each step applied in that order. Past the real end it reads zeroes, takes writes of zeroes
 * and refuses anything else with ENOSPC (after writing the part that fits, as nbdkit does).
 * A request wholly inside the real disk passes through untouched.
 *
 * One difference: for extents past the real end nbdkit reports a hole up to `truncate=` even
 * when rounding moved the end elsewhere, and with both `truncate=` and rounding it can then
 * report no extent at all and abort (nbdkit 1.32.5 asserts in extents_to_block_descriptors);
 * here the hole always runs to the size served.
 */

import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { extentsMoved } from "../api/filter-offsets.ts";
import { afterwards } from "../api/maybe-promise.ts";
import { bytesBefore, subtractOffset } from "../api/offset.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { EXTENT, FLAG, type MaybePromise, type Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { isAllZero } from "../api/zero.ts";

const UINT_MAX = 0xffff_ffffn;
const INT64_MAX = (1n << 63n) - 1n;

/** The filter's parameters: each undefined when not given. */
export interface TruncateParams {
  truncate?: bigint;
  roundUp?: bigint;
  roundDown?: bigint;
}

export function createTruncateFilter(): Filter {
  const params: TruncateParams = {};
  return {
    name: "truncate",
    longname: "nbdts truncate filter",
    version: VERSION,
    configHelp: "truncate=<SIZE>                The new size.\n" +
      "round-up=<N>                   Round up to next multiple of N.\n" +
      "round-down=<N>                 Round down to multiple of N.",

    config(next, key, value) {
      if (key === "truncate") params.truncate = parseSize(value);
      else if (key === "round-up") params.roundUp = parseRound(key, value);
      else if (key === "round-down") params.roundDown = parseRound(key, value);
      else return next(key, value);
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      // Set by prepare, once per connection: NBD sizes do not change while connected.
      let real: Offset = 0;
      let size: Offset = 0;
      /** How many of `count` bytes at `offset` the layer below holds. */
      const inside = (offset: Offset, count: number) => bytesBefore(offset, count, real);
      return {
        async prepare() {
          const realSize = BigInt(await below.getSize());
          real = toOffset(realSize);
          size = toOffset(truncatedSize(realSize, params));
        },
        getSize: () => size,
        canExtents: () => true, // the zeroes past the real end are known
        canFastZero: () => true, // zeroing past the end costs nothing
        readAt(buf, offset) {
          const head = inside(offset, buf.length);
          if (head === buf.length) return below.readAt(buf, offset);
          return readAcrossEnd(below, buf, offset, head);
        },
        writeAt(buf, offset, flags) {
          const head = inside(offset, buf.length);
          if (head === buf.length) return below.writeAt(buf, offset, flags);
          return writeAcrossEnd(below, buf, offset, flags, head);
        },
        trim(count, offset, flags) {
          const head = inside(offset, count);
          if (head > 0) return below.trim(head, offset, flags);
        },
        async zero(count, offset, flags) {
          const head = inside(offset, count);
          if (head === 0) return;
          if (flags & FLAG.FAST_ZERO && !(await below.canFastZero())) {
            throw new NbdError(ERRNO.ENOTSUP, "truncate: the layer below cannot zero fast");
          }
          await below.zero(head, offset, flags);
        },
        cache(count, offset, flags) {
          const head = inside(offset, count);
          if (head > 0) return below.cache(head, offset, flags);
        },
        extents(count, offset, flags, sink) {
          const head = inside(offset, count);
          if (head > 0) return extentsMoved(below, head, offset, offset, real, flags, sink);
          sink.add(real, subtractOffset(size, real), EXTENT.HOLE | EXTENT.ZERO);
        },
      };
    },
  };
}

// The requests that reach past the real end, apart from the methods above: their closures
// would make every request allocate, not just these.

/** The `head` bytes the disk holds, then zeroes. */
function readAcrossEnd(
  below: NextHandle,
  buf: Uint8Array,
  offset: Offset,
  head: number,
): MaybePromise<void> {
  if (head === 0) return void buf.fill(0);
  return afterwards(below.readAt(buf.subarray(0, head), offset), () => void buf.fill(0, head));
}

/** The `head` bytes that fit are written; the rest must be zeroes (ENOSPC, as nbdkit). */
function writeAcrossEnd(
  below: NextHandle,
  buf: Uint8Array,
  offset: Offset,
  flags: number,
  head: number,
): MaybePromise<void> {
  const written = head > 0 ? below.writeAt(buf.subarray(0, head), offset, flags) : undefined;
  return afterwards(written, () => {
    if (!isAllZero(buf.subarray(head))) {
      throw new NbdError(ERRNO.ENOSPC, "truncate: write beyond end of underlying device");
    }
  });
}

/** round-up= and round-down=: a size, from 1 to 2^32-1, and a power of two. */
function parseRound(key: string, value: string): bigint {
  const round = parseSize(value);
  if (round === 0n) throw new ConfigError(`if set, the ${key} parameter must be > 0`);
  if (round > UINT_MAX) throw new ConfigError(`the ${key} parameter is too large`);
  if ((round & (round - 1n)) !== 0n) {
    throw new ConfigError(`the ${key} parameter must be a power of 2`);
  }
  return round;
}

/**
 * The size served over a disk of `real` bytes: truncate= replaces it, then round-up= and
 * round-down= round it, each when given. Rounding up past 2^63-1 is refused.
 */
export function truncatedSize(real: bigint, params: TruncateParams): bigint {
  let size = params.truncate ?? real;
  const { roundUp, roundDown } = params;
  if (roundUp !== undefined) {
    const rounded = (size + roundUp - 1n) / roundUp * roundUp;
    if (rounded > INT64_MAX) {
      throw new NbdError(
        ERRNO.ERANGE,
        `cannot round size ${size} up to next boundary of ${roundUp}`,
      );
    }
    size = rounded;
  }
  if (roundDown !== undefined) size = size / roundDown * roundDown;
  return size;
}
