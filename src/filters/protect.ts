/**
 * The protect filter (man nbdkit-protect-filter): `protect=START-END` (repeatable, `~` for
 * everything outside) makes bytes read-only in content, not in form: a write, trim or zero
 * that would change a protected byte fails with EPERM, one that leaves it as it is (writing
 * the same bytes, zeroing zeroes) goes through. Requests that touch no protected byte pass
 * through as they are.
 *
 * One difference: nbdkit 1.32.5 crashes on a trim or zero that starts outside a protected
 * range and reaches into one (check_write steps a NULL buffer); here the protected bytes are
 * checked to be zero, as for a trim or zero that starts inside.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { addOffset } from "../api/offset.ts";
import type { Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { isAllZero } from "../api/zero.ts";
import { sameBytes } from "./same-bytes.ts";
import {
  mergeRanges,
  parseProtectRange,
  type ProtectedRange,
  ProtectedRanges,
} from "./protect-ranges.ts";

/** The most bytes read at once to compare against (nbdkit's largest request). */
const MAX_READ = 64 * 1024 * 1024;

export function createProtectFilter(): Filter {
  const given: ProtectedRange[] = [];
  let ranges = new ProtectedRanges([]);
  return {
    name: "protect",
    longname: "nbdts protect filter",
    version: VERSION,
    configHelp: "protect=<START>-<END>      Protect range of bytes START-END (inclusive).",

    config(next, key, value) {
      if (key !== "protect") return next(key, value);
      given.push(...parseProtectRange(value));
    },

    configComplete(next) {
      ranges = new ProtectedRanges(mergeRanges(given));
      return next();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      return {
        writeAt(buf, offset, flags) {
          if (!ranges.touches(offset, buf.length)) return below.writeAt(buf, offset, flags);
          return checkedWrite(below, ranges, buf, offset, flags);
        },
        trim(count, offset, flags) {
          if (!ranges.touches(offset, count)) return below.trim(count, offset, flags);
          return checkedZero(below, ranges, count, offset, flags, "trim");
        },
        zero(count, offset, flags) {
          if (!ranges.touches(offset, count)) return below.zero(count, offset, flags);
          return checkedZero(below, ranges, count, offset, flags, "zero");
        },
      };
    },
  };
}

// The checked paths, apart from the methods above: their closures would make every request
// allocate, not just the ones that touch a protected byte.

async function checkedWrite(
  below: NextHandle,
  ranges: ProtectedRanges,
  buf: Uint8Array,
  offset: Offset,
  flags: number,
): Promise<void> {
  await checked(below, ranges, buf.length, offset, buf);
  await below.writeAt(buf, offset, flags);
}

async function checkedZero(
  below: NextHandle,
  ranges: ProtectedRanges,
  count: number,
  offset: Offset,
  flags: number,
  how: "trim" | "zero",
): Promise<void> {
  await checked(below, ranges, count, offset);
  await below[how](count, offset, flags);
}

/**
 * Fails with EPERM unless every protected byte of `count` bytes at `offset` would stay as it
 * is: equal to `data` where data is written, zero where zeroes are (no `data`).
 */
async function checked(
  below: NextHandle,
  ranges: ProtectedRanges,
  count: number,
  offset: Offset,
  data?: Uint8Array,
): Promise<void> {
  for (const { skip, length, range } of ranges.piecesOf(offset, count)) {
    const scratch = new Uint8Array(Math.min(length, MAX_READ));
    for (let done = 0; done < length; done += scratch.length) {
      const n = Math.min(scratch.length, length - done);
      const current = scratch.subarray(0, n);
      await below.readAt(current, addOffset(offset, skip + done));
      const unchanged = data
        ? sameBytes(current, data.subarray(skip + done, skip + done + n))
        : isAllZero(current);
      if (!unchanged) {
        throw new NbdError(
          ERRNO.EPERM,
          `protect filter prevented write to protected range ${range.description}`,
        );
      }
    }
  }
}
