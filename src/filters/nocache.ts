/**
 * The nocache filter (man nbdkit-nocache-filter): changes how NBD_CMD_CACHE is offered and
 * served. `cachemode=none` (the default) takes it off the export, `emulate` has the server
 * serve it by reading (and discarding) through the layer below, `nop` (or `no-op`) offers it
 * and does nothing at all.
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { CACHE_MODE, type CacheMode } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

const MODES: Readonly<Record<string, CacheMode>> = {
  none: CACHE_MODE.NONE,
  emulate: CACHE_MODE.EMULATE,
  nop: CACHE_MODE.NATIVE,
  "no-op": CACHE_MODE.NATIVE,
};

export function createNocacheFilter(): Filter {
  let mode: CacheMode = CACHE_MODE.NONE;
  return {
    name: "nocache",
    longname: "nbdts nocache filter",
    version: VERSION,
    configHelp: "cachemode=<MODE>     Either 'none' (default), 'emulate', or 'nop'.",

    config(next, key, value) {
      if (key !== "cachemode") return next(key, value);
      if (!Object.hasOwn(MODES, value)) throw new ConfigError(`unknown cachemode '${value}'`);
      mode = MODES[value];
    },

    async open(next, readonly, exportName) {
      await next(readonly, exportName);
      // NATIVE here is `nop`: cache() below does nothing. NONE and EMULATE never call it.
      return { canCache: () => mode, cache() {} };
    },
  };
}
