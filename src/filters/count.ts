/**
 * The count filter (man nbdkit-count-filter, nbdkit 1.46): counts the bytes read, written,
 * zeroed and trimmed by requests that succeeded, and prints the totals as a debug line when the
 * server unloads it at exit ("count bytes: read N, written N, zeroed N, trimmed N"; seen with
 * -v). No parameters. Counts are exact up to 2^53 bytes, past any server's lifetime.
 */

import { debug } from "../api/debug.ts";
import type { Filter } from "../api/filter.ts";
import { VERSION } from "../api/version.ts";

export function createCountFilter(): Filter {
  const bytes = { read: 0, written: 0, zeroed: 0, trimmed: 0 };
  return {
    name: "count",
    longname: "nbdts count filter",
    version: VERSION,

    unload() {
      debug(
        `count bytes: read ${bytes.read}, written ${bytes.written}, ` +
          `zeroed ${bytes.zeroed}, trimmed ${bytes.trimmed}`,
      );
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      return {
        async readAt(buf, offset) {
          await below.readAt(buf, offset);
          bytes.read += buf.length;
        },
        async writeAt(buf, offset, flags) {
          await below.writeAt(buf, offset, flags);
          bytes.written += buf.length;
        },
        async zero(count, offset, flags) {
          await below.zero(count, offset, flags);
          bytes.zeroed += count;
        },
        async trim(count, offset, flags) {
          await below.trim(count, offset, flags);
          bytes.trimmed += count;
        },
      };
    },
  };
}
