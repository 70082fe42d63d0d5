/**
 * The full plugin (man nbdkit-full-plugin): a disk that reads as zeroes and is always out of
 * space, so every write, zero and trim fails with ENOSPC, as a thin-provisioned disk does once
 * its host has filled up. Useful for testing how clients handle a full disk.
 */

import { parseSize, toOffset } from "../api/parse.ts";
import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import { CACHE_MODE, EXTENT, type Offset, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

export function createFullPlugin(): Plugin {
  // Unlike null, full has no default size: configComplete refuses to start without one.
  let size: Offset | undefined;

  const noSpace = (): never => {
    throw new NbdError(ERRNO.ENOSPC, "the disk is full");
  };

  return {
    name: "full",
    version: VERSION,
    magicConfigKey: "size", // `full 1G` means `full size=1G`
    configHelp: "size=<SIZE>  (required) Size of the backing disk",

    config(key, value) {
      if (key !== "size") throw new ConfigError(`unknown parameter '${key}'`);
      size = toOffset(parseSize(value));
    },

    configComplete() {
      if (size === undefined) throw new ConfigError("size parameter is required");
    },

    // No state is shared between requests, so any amount of concurrency is safe.
    threadModel: () => THREAD_MODEL.PARALLEL,

    open() {
      const diskSize = size ?? 0;
      return {
        getSize: () => diskSize,
        readAt: (buf) => void buf.fill(0),
        writeAt: noSpace,
        trim: noSpace,
        // There is deliberately no zero(), as in nbdkit: the server then writes zeroes with
        // writeAt, which fails with ENOSPC, and a client asking for a *fast* zero is told at
        // once that it is not supported (ENOTSUP) instead.
        //
        // Nor is there flush(): every write failed, so there is never anything to flush.
        extents: (_count, _offset, _flags, extents) =>
          extents.add(0, diskSize, EXTENT.HOLE | EXTENT.ZERO),
        // Every connection sees the same (empty) disk, so clients may open several at once.
        canMultiConn: () => true,
        // NATIVE without a cache() callback: the server answers cache requests at once,
        // which is right when there is nothing to prefetch.
        canCache: () => CACHE_MODE.NATIVE,
      };
    },
  };
}
