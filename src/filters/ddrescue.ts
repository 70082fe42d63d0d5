/**
 * The ddrescue filter (man nbdkit-ddrescue-filter): serves a disk image recovered by GNU
 * ddrescue as its mapfile says (`ddrescue-mapfile=`, ddrescue-map.ts): a read that lies whole
 * within one recovered (`+`) range is served, any other fails with EIO, as the bad sectors of
 * the original disk would. Read-only, with no cache. Given twice, both mapfiles' ranges count.
 */

import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { addOffset, compareOffsets } from "../api/offset.ts";
import { CACHE_MODE, type Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { parseMapfile, type Rescued } from "./ddrescue-map.ts";

export function createDdrescueFilter(host?: PluginHost): Filter {
  const rescued: Rescued[] = [];

  /** Whether [offset, offset + count) lies within one recovered range (not across two). */
  function readable(offset: Offset, count: number): boolean {
    const last = addOffset(offset, count - 1);
    for (let i = 0; i < rescued.length; i++) {
      const { start, end } = rescued[i];
      if (compareOffsets(offset, start) >= 0 && compareOffsets(last, end) <= 0) return true;
    }
    return false;
  }

  return {
    name: "ddrescue",
    longname: "nbdts ddrescue mapfile filter",
    version: VERSION,
    configHelp: "ddrescue-mapfile=...     Specify ddrescue mapfile to use",

    async config(next, key, value) {
      if (key !== "ddrescue-mapfile") return next(key, value);
      if (host === undefined) {
        throw new ConfigError(`${value}: ddrescue: this runtime has no files`);
      }
      let text: string;
      try {
        text = new TextDecoder().decode(await host.readFile(value, 0, undefined));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ConfigError(`${value}: ddrescue: fopen: ${reason}`);
      }
      rescued.push(...parseMapfile(text));
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      return {
        canWrite: () => false,
        canCache: () => CACHE_MODE.NONE,
        readAt(buf, offset) {
          if (!readable(offset, buf.length)) {
            throw new NbdError(ERRNO.EIO, "ddrescue: read not within a recovered range");
          }
          return below.readAt(buf, offset);
        },
      };
    },
  };
}
