/**
 * The ones plugin (nbdkit-ones-plugin, from nbdkit 1.36): a disk of the given size (0 when none
 * is given) whose every byte reads as 0xff, or as `byte=N`. Writes, zeroes and trims are thrown
 * away, so the disk always reads the same; it is all data.
 */

import { ConfigError } from "../api/errors.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { type Offset, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { parseUint64 } from "./lib/c-numbers.ts";
import { discardingHandle } from "./lib/discarding-handle.ts";

export function createOnesPlugin(): Plugin {
  let size: Offset = 0;
  let byte = 0xff;
  return {
    name: "ones",
    version: VERSION,
    magicConfigKey: "size",
    configHelp: "size=<SIZE>             Size of the backing disk\n" +
      "byte=<N>                Repeated byte (default 0xff)",
    config(key, value) {
      if (key === "size") size = toOffset(parseSize(value));
      else if (key === "byte") {
        const parsed = parseUint64("byte", value); // nbdkit_parse_uint8_t: 255, 0xff, 0377
        if (parsed > 0xffn) {
          throw new ConfigError(
            `byte: could not parse number: "${value}": Numerical result out of range`,
          );
        }
        byte = Number(parsed);
      } else throw new ConfigError(`unknown parameter '${key}'`);
    },
    threadModel: () => THREAD_MODEL.PARALLEL,
    open: () => discardingHandle(size, byte),
  };
}
