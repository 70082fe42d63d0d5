/**
 * A disk whose every byte reads the same and which throws every write, zero and trim away, as
 * the null (zeroes) and ones (0xff) plugins serve: all of it cheap enough to run in parallel,
 * to share between connections and to promise fast.
 */

import { CACHE_MODE, FUA_MODE, type Handle, type Offset } from "../../api/plugin.ts";

export function discardingHandle(size: Offset, byte: number): Handle {
  return {
    getSize: () => size,
    readAt: (buf) => void buf.fill(byte),
    writeAt() {},
    zero() {},
    trim() {},
    flush() {},
    canMultiConn: () => true,
    canCache: () => CACHE_MODE.NATIVE,
    canFastZero: () => true,
    canFua: () => FUA_MODE.NATIVE,
  };
}
