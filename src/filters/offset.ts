/**
 * The offset filter (man nbdkit-offset-filter): serves the part of the disk below that starts
 * at `offset=` (default 0) and is `range=` bytes long (default: to the end), so the client's
 * byte 0 is the plugin's byte `offset`. Requests pass through moved, their buffers untouched:
 * a read or write adds nothing but an addition on its way down.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { VERSION } from "../api/version.ts";
import { type Window, windowMethods } from "./window.ts";

export function createOffsetFilter(): Filter {
  let offset = 0n;
  let range: bigint | undefined;
  return {
    name: "offset",
    longname: "nbdts offset filter",
    version: VERSION,
    configHelp: "offset=<OFFSET>            The start offset to serve (default 0).\n" +
      "range=<LENGTH>             The total size to serve (default rest of file).",

    config(next, key, value) {
      if (key === "offset") offset = parseSize(value);
      else if (key === "range") range = parseSize(value);
      else return next(key, value);
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const window: Window = { start: toOffset(offset), end: 0 };
      return {
        async getSize() {
          const served = servedSize(offset, range, BigInt(await below.getSize()));
          window.end = toOffset(offset + served);
          return toOffset(served);
        },
        ...windowMethods(below, window),
      };
    },
  };
}

/**
 * The size served from `offset` for `range` bytes (the rest when undefined) of a disk of
 * `real` bytes; a range past the end is refused with nbdkit's message.
 */
export function servedSize(offset: bigint, range: bigint | undefined, real: bigint): bigint {
  if (range !== undefined) {
    if (offset > real - range) {
      throw new NbdError(
        ERRNO.EINVAL,
        `offset+range (${offset}+${range}) is larger than the real size (${real}) ` +
          "of the underlying file or device",
      );
    }
    return range;
  }
  if (offset > real) {
    throw new NbdError(
      ERRNO.EINVAL,
      `offset (${offset}) is larger than the real size (${real}) of the underlying file or device`,
    );
  }
  return real - offset;
}
