/**
 * The checkwrite filter (man nbdkit-checkwrite-filter): serves a disk that can be written only
 * with what it already holds, to test that a copy is complete and correct. The plugin is
 * opened read-only; every write is compared with what the plugin reads back there, every
 * trim and zero checked to cover only zeroes, and a difference fails that request with EIO.
 * Flush does nothing. It offers every write-like command whatever the plugin can do.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import { type Filter, type NextHandle, ZERO_MODE } from "../api/filter.ts";
import { extentsFull } from "../api/filter-extents.ts";
import { addOffset } from "../api/offset.ts";
import { EXTENT, FLAG, FUA_MODE, type Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { isAllZero } from "../api/zero.ts";
import { sameBytes } from "./same-bytes.ts";

/** The most bytes read at once to check (nbdkit's largest request). */
const MAX_READ = 64 * 1024 * 1024;

function doesNotMatch(): NbdError {
  return new NbdError(ERRNO.EIO, "data written does not match expected");
}

export function createCheckwriteFilter(): Filter {
  return {
    name: "checkwrite",
    longname: "nbdts checkwrite filter",
    version: VERSION,

    async open(next, _readonly, exportName) {
      const below = await next(true, exportName); // whatever the client may do
      return {
        canWrite: () => true,
        canFlush: () => true,
        canFua: () => FUA_MODE.NATIVE,
        canTrim: () => true,
        canZero: () => ZERO_MODE.NATIVE,
        // Offered even where every fast zero will fail: better than not at all (nbdkit).
        canFastZero: () => true,
        canMultiConn: () => true,
        async writeAt(buf, offset) {
          const expected = new Uint8Array(buf.length);
          await below.readAt(expected, offset);
          if (!sameBytes(buf, expected)) throw doesNotMatch();
        },
        flush() {},
        trim: (count, offset, flags) => holdsZeroes(below, count, offset, flags),
        zero: (count, offset, flags) => holdsZeroes(below, count, offset, flags),
      };
    },
  };
}

/**
 * Fails with EIO unless the plugin reads zeroes over `count` bytes at `offset`: extents it
 * calls zero count without reading (when it has extents), the rest is read. A fast zero that
 * would have to read fails with ENOTSUP instead.
 */
async function holdsZeroes(
  below: NextHandle,
  count: number,
  offset: Offset,
  flags: number,
): Promise<void> {
  const fast = (flags & FLAG.FAST_ZERO) !== 0;
  const notFast = () => new NbdError(ERRNO.ENOTSUP, "checkwrite: cannot check zeroes fast");
  if (!(await below.canExtents())) {
    if (fast) throw notFast();
    return readsAsZeroes(below, count, offset);
  }
  const extents = await extentsFull(below, count, offset, 0);
  for (let i = 0; i < extents.count; i++) {
    const { offset: start, length, type } = extents.get(i);
    if (type & EXTENT.ZERO) continue;
    if (fast) throw notFast();
    await readsAsZeroes(below, Number(length), start);
  }
}

async function readsAsZeroes(below: NextHandle, count: number, offset: Offset): Promise<void> {
  const scratch = new Uint8Array(Math.min(count, MAX_READ));
  for (let done = 0; done < count; done += scratch.length) {
    const piece = scratch.subarray(0, Math.min(scratch.length, count - done));
    await below.readAt(piece, addOffset(offset, done));
    if (!isAllZero(piece)) throw doesNotMatch();
  }
}
