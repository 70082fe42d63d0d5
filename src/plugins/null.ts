/**
 * The null plugin (nbdkit-null-plugin): a disk of the given size that reads as zeroes and
 * throws writes away, reporting itself as one big hole.
 */

import { ConfigError } from "../api/errors.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import {
  CACHE_MODE,
  EXTENT,
  FUA_MODE,
  type Offset,
  type Plugin,
  THREAD_MODEL,
} from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

export function createNullPlugin(): Plugin {
  let size: Offset = 0;
  return {
    name: "null",
    version: VERSION,
    magicConfigKey: "size",
    configHelp: "size=<SIZE>             Size of the backing disk",
    config(key, value) {
      if (key !== "size") throw new ConfigError(`unknown parameter '${key}'`);
      size = toOffset(parseSize(value));
    },
    threadModel: () => THREAD_MODEL.PARALLEL,
    open: () => ({
      getSize: () => size,
      readAt: (buf) => void buf.fill(0),
      writeAt() {},
      zero() {},
      trim() {},
      flush() {},
      canMultiConn: () => true,
      canCache: () => CACHE_MODE.NATIVE,
      canFastZero: () => true,
      canFua: () => FUA_MODE.NATIVE,
      extents: (_count, _offset, _flags, extents) =>
        extents.add(0, size, EXTENT.HOLE | EXTENT.ZERO),
    }),
  };
}
