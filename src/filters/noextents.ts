/**
 * The noextents filter (man nbdkit-noextents-filter): hides the layer below's extents, so block
 * status reports the whole disk as allocated data, as for a plugin without extents. Useful to
 * test clients (and copies) that cannot rely on knowing where the holes are.
 */

import type { Filter } from "../api/filter.ts";
import { VERSION } from "../api/version.ts";

export function createNoextentsFilter(): Filter {
  return {
    name: "noextents",
    longname: "nbdts noextents filter",
    version: VERSION,
    async open(next, readonly, exportName) {
      await next(readonly, exportName);
      return { canExtents: () => false };
    },
  };
}
