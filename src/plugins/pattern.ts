/**
 * The pattern plugin (nbdkit-pattern-plugin): a read-only disk where each 8-byte word holds
 * its own offset, big-endian, so any byte read back says where it came from.
 */

import { ConfigError } from "../api/errors.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { CACHE_MODE, type Offset, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { setU64 } from "../protocol/layout.ts";
import { VERSION } from "../api/version.ts";

/** Writes the pattern for `buf.length` bytes starting at `offset` into `buf`. */
export function fillPattern(buf: Uint8Array, offset: Offset): void {
  const word = new Uint8Array(8);
  let at = 0;
  if (typeof offset === "number" && Number.isSafeInteger(offset + buf.length + 8)) {
    let base = offset - (offset % 8);
    let skip = offset % 8;
    while (at < buf.length) {
      const hi = Math.floor(base / 0x100000000);
      const lo = base >>> 0;
      for (let i = skip; i < 8 && at < buf.length; i++) {
        buf[at++] = i < 4 ? hi >>> (24 - 8 * i) : lo >>> (56 - 8 * i);
      }
      skip = 0;
      base += 8;
    }
    return;
  }
  // Past 2^53 words are exact only as bigints: rare, so the slow path is fine.
  let base = BigInt(offset) & ~7n;
  let skip = Number(BigInt(offset) & 7n);
  while (at < buf.length) {
    setU64(word, 0, base);
    const n = Math.min(8 - skip, buf.length - at);
    buf.set(word.subarray(skip, skip + n), at);
    at += n;
    skip = 0;
    base += 8n;
  }
}

export function createPatternPlugin(): Plugin {
  let size: Offset = 0;
  return {
    name: "pattern",
    version: VERSION,
    magicConfigKey: "size",
    configHelp: "size=<SIZE>  (required) Size of the backing disk",
    config(key, value) {
      if (key !== "size") throw new ConfigError(`unknown parameter '${key}'`);
      size = toOffset(parseSize(value));
    },
    threadModel: () => THREAD_MODEL.PARALLEL,
    open: () => ({
      getSize: () => size,
      readAt: fillPattern,
      canMultiConn: () => true,
      canCache: () => CACHE_MODE.NATIVE,
    }),
  };
}
