/**
 * The random plugin (man nbdkit-random-plugin): a disk full of pseudo-random bytes, the same
 * bytes nbdkit serves for the same seed. Any byte can be read without generating those before
 * it, because each one is computed from seed + offset alone (see lib/random-bytes.ts).
 *
 * Writes are allowed but only check: writing back exactly what a read returns succeeds, and
 * anything else fails with EIO. That lets a copying tool be tested with this disk as both
 * source and destination (`nbdcopy "$uri" "$uri"`).
 */

import { parseSize, toOffset } from "../api/parse.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import { CACHE_MODE, type Offset, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { fillRandomAt } from "./lib/random-bytes.ts";

export function createRandomPlugin(): Plugin {
  let size: Offset = 0; // nbdkit's manual calls size required, but its code defaults to 0
  let seed = 0;

  return {
    name: "random",
    version: VERSION,
    magicConfigKey: "size",
    configHelp: "size=<SIZE>  (required) Size of the backing disk\n" +
      "seed=<SEED>             Random number generator seed",

    load() {
      // A different disk on each run unless seed= is given: the time in seconds, as nbdkit
      // uses. Not meant to be unpredictable, only to differ.
      seed = Math.floor(Date.now() / 1000) >>> 0;
    },

    config(key, value) {
      if (key === "seed") seed = parseUnsigned("seed", value); // 0 to 2^32-1
      else if (key === "size") size = toOffset(parseSize(value));
      else throw new ConfigError(`unknown parameter '${key}'`);
    },

    // Reads only compute, so connections and requests may all run at once.
    threadModel: () => THREAD_MODEL.PARALLEL,

    open() {
      const read = (buf: Uint8Array, offset: Offset) => fillRandomAt(buf, seed, offset);
      return {
        getSize: () => size,
        readAt: read,

        writeAt(buf, offset) {
          const expected = new Uint8Array(buf.length);
          read(expected, offset);
          for (let i = 0; i < buf.length; i++) {
            if (buf[i] !== expected[i]) {
              throw new NbdError(ERRNO.EIO, "data written does not match expected");
            }
          }
        },

        // A trim or zero would leave zeroes where random data must stay, so both always fail.
        // Defining them is still worth it: without zero() the server would try writing zeroes,
        // which writeAt refuses anyway, only more slowly.
        trim() {
          throw new NbdError(ERRNO.EIO, "attempt to trim or zero non-sparse random disk");
        },
        zero() {
          throw new NbdError(ERRNO.EIO, "attempt to trim or zero non-sparse random disk");
        },

        // No extents(): the server then reports the whole disk as data, which it is.
        canMultiConn: () => true, // every connection reads the same bytes
        canCache: () => CACHE_MODE.NATIVE, // nothing to prefetch: answered at once
      };
    },
  };
}
