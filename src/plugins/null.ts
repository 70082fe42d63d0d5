/**
 * The null plugin (nbdkit-null-plugin): a disk of the given size that reads as zeroes and
 * throws writes away, reporting itself as one big hole.
 */

import { ConfigError } from "../api/errors.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { EXTENT, type Offset, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { discardingHandle } from "./lib/discarding-handle.ts";

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
      ...discardingHandle(size, 0),
      extents: (_count, _offset, _flags, extents) =>
        extents.add(0, size, EXTENT.HOLE | EXTENT.ZERO),
    }),
  };
}
