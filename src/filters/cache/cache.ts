/**
 * The cache filter (man nbdkit-cache-filter): keeps blocks of the layer below (64 KiB, or
 * `cache-min-block-size=`) in a cache every connection shares, so that the plugin is asked
 * less. `cache=writeback` (the default) keeps writes until a flush, `writethrough` writes them
 * below at once too, `unsafe` ignores flushes; `cache-on-read=` keeps what is read as well;
 * `cache-max-size=` bounds the cache, reclaiming the least recently used blocks between the
 * high and low thresholds (`cache-high-threshold=`, `cache-low-threshold=`, 95% and 80%).
 *
 * nbdkit keeps the cache in a deleted temporary file under $TMPDIR, whose block size can raise
 * the cache's; nbdts keeps it in WebAssembly memory (the sparse page store), with exactly the
 * block size asked for.
 */

import { ConfigError } from "../../api/errors.ts";
import type { Filter } from "../../api/filter.ts";
import { parseUnsigned } from "../../api/parse-integer.ts";
import { parseSize } from "../../api/parse.ts";
import { VERSION } from "../../api/version.ts";
import type { PluginHost } from "../../io.ts";
import { OnReadSwitch } from "../blocks/on-read-switch.ts";
import { cacheHandle } from "./cache-handle.ts";
import { type CacheLimit, type CacheMode, CacheStore } from "./cache-store.ts";

const MODES: readonly string[] = ["writeback", "writethrough", "unsafe"];

export function createCacheFilter(host?: PluginHost): Filter {
  let mode: CacheMode = "writeback";
  let blockSize = 65536;
  let maxSize: bigint | undefined;
  let high = 95;
  let low = 80;
  const onRead = new OnReadSwitch(host);
  let cache: CacheStore | undefined;
  return {
    name: "cache",
    longname: "nbdts caching filter",
    version: VERSION,
    configHelp: "cache=MODE                Set cache MODE, one of writeback (default),\n" +
      "                          writethrough, or unsafe.\n" +
      "cache-on-read=BOOL|/PATH  Set to true to cache on reads (default false).\n" +
      "cache-max-size=SIZE       Set maximum space used by cache.\n" +
      "cache-high-threshold=PCT  Percentage of max size where reclaim begins.\n" +
      "cache-low-threshold=PCT   Percentage of max size where reclaim ends.",

    config(next, key, value) {
      switch (key) {
        case "cache":
          if (!MODES.includes(value)) {
            throw new ConfigError(
              "invalid cache parameter, should be writeback|writethrough|unsafe",
            );
          }
          mode = value as CacheMode;
          return;
        case "cache-min-block-size": {
          const size = parseSize(value);
          if (size < 4096n || (size & (size - 1n)) !== 0n || size > 0xffffffffn) {
            throw new ConfigError(
              "cache-min-block-size is not a power of 2, or is too small or too large",
            );
          }
          blockSize = Number(size);
          return;
        }
        case "cache-max-size":
          maxSize = parseSize(value);
          if (maxSize < 1024n * 1024n) throw new ConfigError("cache-max-size is too small");
          return;
        case "cache-high-threshold":
          high = parseUnsigned(key, value);
          if (high === 0) throw new ConfigError(`${key} must be greater than zero`);
          return;
        case "cache-low-threshold":
          low = parseUnsigned(key, value);
          if (low === 0) throw new ConfigError(`${key} must be greater than zero`);
          return;
        case "cache-on-read":
          onRead.set(key, value);
          return;
        default:
          return next(key, value);
      }
    },

    configComplete(next) {
      if (maxSize !== undefined && low >= high) {
        throw new ConfigError("cache-low-threshold must be less than cache-high-threshold");
      }
      return next();
    },

    unload() {
      cache = undefined;
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const limit = maxSize === undefined ? undefined : limitOf(maxSize, high, low, blockSize);
      cache ??= new CacheStore(blockSize, mode, limit);
      return cacheHandle(cache, below, onRead);
    },
  };
}

/**
 * The thresholds in blocks: reclaiming starts once the cache holds max·high/100 bytes or more,
 * and stops once it holds less than max·low/100.
 */
function limitOf(maxSize: bigint, high: number, low: number, blockSize: number): CacheLimit {
  const blocksFor = (percent: number) => {
    const bytes = maxSize * BigInt(percent) / 100n;
    return Number((bytes + BigInt(blockSize) - 1n) / BigInt(blockSize));
  };
  return { startBlocks: blocksFor(high), stopBlocks: blocksFor(low) };
}
