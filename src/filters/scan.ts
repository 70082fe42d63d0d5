/**
 * The scan filter (man nbdkit-scan-filter): while a client is connected to the default export,
 * asks the layer below to cache (NBD_CMD_CACHE) the whole disk in `scan-size=` pieces (default
 * 2 MiB), from the start, in the background (scanner.ts). `scan-ahead=` (default true) skips
 * forward past what the client reads; `scan-clock=` (default true) starts the next connection's
 * scan where the last one got to; `scan-forever=` (default false) starts over at the end.
 *
 * Like nbdkit it scans only when the export is the default one, the server runs PARALLEL and
 * the layer below caches natively; otherwise it warns and does nothing (put --filter=cache
 * after it to give a plugin without cache one).
 */

import { logError } from "../api/error-log.ts";
import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseBool, parseSize } from "../api/parse.ts";
import { CACHE_MODE, THREAD_MODEL, type ThreadModel } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { Scanner, type ScanSettings } from "./scanner.ts";

export function createScanFilter(): Filter {
  const settings: ScanSettings = {
    ahead: true,
    clock: true,
    forever: false,
    size: 2 * 1024 * 1024,
    reached: 0,
  };
  let threadModel: ThreadModel | undefined;
  return {
    name: "scan",
    longname: "nbdts scan filter",
    version: VERSION,
    configHelp: "scan-ahead=false         Skip ahead when client reads faster.\n" +
      "scan-clock=false         Always start prefetching from beginning.\n" +
      "scan-forever=true        Scan in a loop while clients connected.\n" +
      "scan-size=NN             Set scan block size.",

    config(next, key, value) {
      if (key === "scan-ahead") settings.ahead = parseBool(value);
      else if (key === "scan-clock") settings.clock = parseBool(value);
      else if (key === "scan-forever") settings.forever = parseBool(value);
      else if (key === "scan-size") settings.size = Number(parseSize(value));
      else return next(key, value);
    },

    configComplete(next) {
      const size = settings.size;
      if (size < 512 || size > 32 * 1024 * 1024 || (size & (size - 1)) !== 0) {
        throw new ConfigError("scan-size parameter should be [512..32M] and a power of two");
      }
      return next();
    },

    getReady(model) {
      threadModel = model;
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const scanner = new Scanner(below, settings);
      return {
        async prepare() {
          if (exportName !== "") {
            return logError("scan: warning: not the default export, not scanning");
          }
          if (threadModel !== THREAD_MODEL.PARALLEL) {
            return logError(
              "scan: warning: underlying plugin does not support the PARALLEL thread model, " +
                "not scanning",
            );
          }
          if ((await below.canCache()) !== CACHE_MODE.NATIVE) {
            return logError(
              "scan: warning: underlying plugin does not support NBD_CMD_CACHE, not scanning; " +
                "try adding --filter=cache after this filter",
            );
          }
          scanner.start();
        },
        finalize: () => scanner.stop(),
        readAt(buf, offset) {
          if (settings.ahead) scanner.readTo(offset, buf.length);
          return below.readAt(buf, offset);
        },
      };
    },
  };
}
