/**
 * The xz filter (man nbdkit-xz-filter): serves the expansion of an .xz disk, read-only, with
 * random access by block. Each connection reads the file's index in prepare; a read decodes
 * the blocks it touches (xz-block.ts) and keeps the last `xz-max-depth` of them (xz-cache.ts).
 * A file with a block larger than `xz-max-block` is refused. Requests are serialized, as
 * nbdkit's are; extents are not offered, and cache requests are served by reading.
 */

import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { debug } from "../api/debug.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { parseSize } from "../api/parse.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { expansionAnswers } from "./expansion.ts";
import { decodeBlock } from "./xz-block.ts";
import { BlockCache, type CachedBlock } from "./xz-cache.ts";
import { blockAt, readXzIndex, type XzIndex } from "./xz-index.ts";

export function createXzFilter(): Filter {
  let maxBlock = 512n * 1024n * 1024n;
  let maxDepth = 8;
  return {
    name: "xz",
    longname: "nbdts XZ filter",
    version: VERSION,
    configHelp: "xz-max-block=<SIZE> (optional) Maximum block size allowed (default: 512M)\n" +
      "xz-max-depth=<N>    (optional) Maximum blocks in cache (default: 8)",

    config(next, key, value) {
      if (key === "xz-max-block") maxBlock = parseSize(value);
      else if (key === "xz-max-depth") {
        maxDepth = parseUnsigned("xz-max-depth", value);
        if (maxDepth === 0) throw new ConfigError("'xz-max-depth' parameter must be >= 1");
      } else return next(key, value);
    },

    threadModel: () => THREAD_MODEL.SERIALIZE_REQUESTS,

    async open(next, _readonly, exportName) {
      const below = await next(true, exportName);
      const cache = new BlockCache(maxDepth);
      let index: XzIndex;
      return {
        async prepare() {
          index = await readXzIndex(below);
          if (BigInt(index.largestBlock) > maxBlock) {
            throw new NbdError(
              ERRNO.EIO,
              "xz file largest block is bigger than maxblock: either recompress the xz file " +
                "with smaller blocks (see nbdkit-xz-filter(1)) or make maxblock parameter " +
                `bigger (maxblock = ${maxBlock} bytes, largest block in xz file = ` +
                `${index.largestBlock} bytes)`,
            );
          }
        },
        getSize: () => index.size,
        ...expansionAnswers(below, "xz"),
        async readAt(buf, offset) {
          for (let done = 0; done < buf.length;) {
            const at = Number(offset) + done;
            const block = cache.find(at) ?? await load(below, index, cache, at);
            const from = at - block.start;
            const n = Math.min(buf.length - done, block.size - from);
            buf.set(block.data.subarray(from, from + n), done);
            done += n;
          }
        },
        close() {
          debug(`cache: hits = ${cache.hits}, misses = ${cache.misses}`);
        },
      };
    },
  };
}

/** Decodes the block holding `offset` into the cache. */
async function load(
  below: NextHandle,
  index: XzIndex,
  cache: BlockCache,
  offset: number,
): Promise<CachedBlock> {
  const block = blockAt(index, offset);
  debug(`seek: block number ${block.number} at file offset ${block.compressedOffset}`);
  const data = cache.room(block.uncompressedSize);
  await decodeBlock(below, block, data);
  const cached = { start: block.uncompressedOffset, size: block.uncompressedSize, data };
  cache.put(cached);
  return cached;
}
