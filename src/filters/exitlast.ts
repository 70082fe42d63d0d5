/**
 * The exitlast filter (man nbdkit-exitlast-filter): the server exits when its last client
 * disconnects, so a server started for one client goes away after it. Clients are counted from
 * open to close (each export a client opens counts), and when the count drops back to zero the
 * filter asks the server to stop as a SIGTERM would (shutdown()).
 */

import { debug } from "../api/debug.ts";
import type { Filter } from "../api/filter.ts";
import { shutdown } from "../api/shutdown.ts";
import { VERSION } from "../api/version.ts";

export function createExitlastFilter(): Filter {
  let connections = 0;
  return {
    name: "exitlast",
    longname: "nbdts exitlast filter",
    version: VERSION,

    async open(next, readonly, exportName) {
      await next(readonly, exportName);
      connections++;
      return {
        close() {
          if (--connections > 0) return;
          debug("exitlast: exiting on last client connection");
          shutdown();
        },
      };
    },
  };
}
