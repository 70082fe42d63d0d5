/**
 * example3 (man nbdkit-example3-plugin): every connection gets its own fresh, writable, empty
 * disk of size= bytes (100M when not given), thrown away when the client disconnects. It shows
 * per-connection storage made in open() and freed in close(), an optional parameter with a
 * default, and writes with flush.
 *
 * nbdkit keeps each disk in an unlinked temporary sparse file; here it is a sparse in-memory
 * store, which a client cannot tell apart: both read zeroes until written and hold only what is.
 */

import type { Allocator } from "../allocators/allocator.ts";
import { createSparseAllocator } from "../allocators/sparse.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { ConfigError } from "../api/errors.ts";
import { type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

export function createExample3Plugin(): Plugin {
  let size = 100n * 1024n * 1024n;

  return {
    name: "example3",
    version: VERSION,
    configHelp: "size=<SIZE>  (optional) Size of the backing disk (default: 100M)",

    dumpPlugin: () => ["example3_extra=hello"],

    config(key, value) {
      if (key !== "size") throw new ConfigError(`unknown parameter '${key}'`);
      size = parseSize(value); // "100M", "2G" … as everywhere in nbdkit
    },

    // Each connection has its own disk, so requests on different connections could run at
    // once; nbdkit's example keeps the safest model anyway, for people who copy it.
    threadModel: () => THREAD_MODEL.SERIALIZE_ALL_REQUESTS,

    // The readonly flag is ignored: a client that asked for read-only still gets a fresh disk
    // (and the server refuses its writes for it).
    open() {
      let disk: Allocator | undefined = createSparseAllocator(size);
      const diskSize = toOffset(size);
      return {
        getSize: () => diskSize,
        readAt: (buf, offset) => disk!.read(buf, offset),
        writeAt: (buf, offset) => disk!.write(buf, offset),

        // Having flush() makes the disk accept flushes and FUA writes (the server flushes
        // after them). nbdkit's file needs fdatasync; memory has nothing to make durable.
        flush() {},

        // Without zero(), the server zeroes by writing zeroes; without extents(), it reports
        // the whole disk as data. Both are what nbdkit's example3 gives its clients.

        // The disk dies with the connection: let its memory go.
        close() {
          disk = undefined;
        },
      };
    },
  };
}
