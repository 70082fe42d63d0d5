/**
 * The blocksize filter (man nbdkit-blocksize-filter): lets any client talk to a plugin with
 * block size limits. Requests go to the plugin aligned to `minblock=` (a power of two up to
 * 64 KiB; by default the plugin's minimum, or 1), at most `maxdata=` bytes for reads and
 * writes (default 64 MiB, or the plugin's maximum) and `maxlen=` bytes for trims, zeroes and
 * cache (default 4 GiB less minblock); clients may send any size and are told so. The size is
 * rounded down to whole blocks. The work is in blocksize-handle.ts and blocksize-pieces.ts.
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseSize } from "../api/parse.ts";
import { VERSION } from "../api/version.ts";
import { type BlocksizeConfig, BlocksizeHandle, type BlocksizeShared } from "./blocksize-handle.ts";
import { RwLock } from "./rw-lock.ts";

/** The largest minblock: the bounce block's size. */
const MINBLOCK_LIMIT = 64 * 1024;
const UINT_MAX = 0xffff_ffffn;

export function createBlocksizeFilter(): Filter {
  const config: BlocksizeConfig = { minblock: 0, maxdata: 0, maxlen: 0 };
  const shared: BlocksizeShared = {
    config,
    lock: new RwLock(),
    bounce: new Uint8Array(MINBLOCK_LIMIT),
  };
  return {
    name: "blocksize",
    longname: "nbdts blocksize filter",
    version: VERSION,
    configHelp: "minblock=<SIZE>      Minimum block size, power of 2 <= 64k (default 1).\n" +
      "maxdata=<SIZE>       Maximum size for read/write (default 64M).\n" +
      "maxlen=<SIZE>        Maximum size for trim/zero (default 4G-minblock).",

    config(next, key, value) {
      if (key === "minblock" || key === "maxdata" || key === "maxlen") {
        config[key] = parseLimit(key, value);
      } else {
        return next(key, value);
      }
    },

    configComplete(next) {
      const { minblock, maxdata, maxlen } = config;
      if (minblock) {
        if ((minblock & (minblock - 1)) !== 0) {
          throw new ConfigError("minblock must be a power of 2");
        }
        if (minblock > MINBLOCK_LIMIT) {
          throw new ConfigError(`minblock must not exceed ${MINBLOCK_LIMIT}`);
        }
        if (maxdata % minblock !== 0) {
          throw new ConfigError(`maxdata must be a multiple of ${minblock}`);
        }
        if (maxlen % minblock !== 0) {
          throw new ConfigError(`maxlen must be a multiple of ${minblock}`);
        }
      }
      return next();
    },

    async open(next, readonly, exportName) {
      return new BlocksizeHandle(await next(readonly, exportName), shared);
    },
  };
}

/** One of the three sizes: non-zero, at most 2^32-1 (nbdkit's messages). */
function parseLimit(key: string, value: string): number {
  const size = parseSize(value);
  if (size === 0n) throw new ConfigError(`parameter '${key}' must be non-zero if specified`);
  if (size > UINT_MAX) throw new ConfigError(`parameter '${key}' too large`);
  return Number(size);
}
