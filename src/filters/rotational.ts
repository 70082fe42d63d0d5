/**
 * The rotational filter (man nbdkit-rotational-filter, nbdkit 1.40 and later): sets whether the
 * export says it is rotational, a hint that clients should sort their requests to save seeks:
 * `rotational=true` (the default) or `false`, whatever the plugin says.
 */

import type { Filter } from "../api/filter.ts";
import { parseBool } from "../api/parse.ts";
import { VERSION } from "../api/version.ts";

export function createRotationalFilter(): Filter {
  let rotational = true;
  return {
    name: "rotational",
    longname: "nbdts rotational filter",
    version: VERSION,
    configHelp: "rotational=true|false   Set the rotational property (default: true)",

    config(next, key, value) {
      if (key === "rotational") rotational = parseBool(value);
      else return next(key, value);
    },

    async open(next, readonly, exportName) {
      await next(readonly, exportName);
      return { isRotational: () => rotational };
    },
  };
}
