/**
 * The cow filter (man nbdkit-cow-filter): a writable copy-on-write overlay over the layer
 * below, which is opened read-only and never written. Writes, trims and kept reads go to an
 * overlay of `cow-block-size=` blocks (64 KiB by default) that every connection shares and
 * that is thrown away at exit; what the overlay does not hold reads from below.
 *
 * nbdkit keeps the overlay in a deleted temporary file under $TMPDIR; nbdts keeps it in
 * WebAssembly memory (the sparse page store), so it costs memory as it fills, and a request
 * that only touches the overlay never waits for a file system.
 */

import { ConfigError } from "../../api/errors.ts";
import type { Filter } from "../../api/filter.ts";
import { parseBool, parseSize } from "../../api/parse.ts";
import { VERSION } from "../../api/version.ts";
import type { PluginHost } from "../../io.ts";
import { KeptBlocks } from "../blocks/kept-blocks.ts";
import { OnReadSwitch } from "../blocks/on-read-switch.ts";
import { cowHandle } from "./cow-handle.ts";

export function createCowFilter(host?: PluginHost): Filter {
  let blockSize = 65536;
  let onCache = false;
  const onRead = new OnReadSwitch(host);
  let overlay: KeptBlocks | undefined;
  return {
    name: "cow",
    longname: "nbdts copy-on-write (COW) filter",
    version: VERSION,
    configHelp: "cow-block-size=<N>       Set COW block size.\n" +
      "cow-on-cache=<BOOL>      Copy cache (prefetch) requests to the overlay.\n" +
      "cow-on-read=<BOOL>|/PATH Copy read requests to the overlay.",

    config(next, key, value) {
      if (key === "cow-block-size") {
        const size = parseSize(value);
        if (size < 4096n || size > 0xffffffffn || (size & (size - 1n)) !== 0n) {
          throw new ConfigError("cow-block-size is out of range (4096..2G) or not a power of 2");
        }
        blockSize = Number(size);
      } else if (key === "cow-on-cache") onCache = parseBool(value);
      else if (key === "cow-on-read") onRead.set(key, value);
      else return next(key, value);
    },

    unload() {
      overlay = undefined;
    },

    async open(next, _readonly, exportName) {
      const below = await next(true, exportName); // the plugin is never written
      overlay ??= new KeptBlocks(blockSize);
      return cowHandle(overlay, below, { onCache, onRead });
    },
  };
}
