/**
 * What the gzip and xz filters answer alike, as nbdkit's do: an expansion of a compressed disk
 * is read-only, has no extents, serves cache requests by reading, is the same on every
 * connection, and describes itself as the expansion of the disk below.
 */

import type { FilterHandle, NextHandle } from "../api/filter.ts";
import { CACHE_MODE } from "../api/plugin.ts";

export function expansionAnswers(
  below: NextHandle,
  format: "gzip" | "xz",
): Pick<
  FilterHandle,
  "canWrite" | "canExtents" | "canCache" | "canMultiConn" | "exportDescription"
> {
  return {
    canWrite: () => false,
    canExtents: () => false,
    canCache: () => CACHE_MODE.EMULATE,
    canMultiConn: () => true,
    async exportDescription() {
      const base = await below.exportDescription();
      return base === undefined ? undefined : `expansion of ${format}-compressed image: ${base}`;
    },
  };
}
