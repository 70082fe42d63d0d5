/**
 * The time-limit filter (man nbdkit-time-limit-filter, nbdkit 1.42): a client may stay
 * connected for `time-limit=` seconds at most (60 by default; 0 for no limit), counted from
 * when it opens the export. The limit is checked when a request comes (as in nbdkit, an idle
 * client is not cut off): past it the request is refused and the connection dropped. The time
 * is any of nbdkit_parse_delay's forms: 30, 1.5, 2s, 500ms, 100us, 100μs, 1000ns.
 * `time_limit=` and `timelimit=` are the same parameter.
 */

import { debug } from "../api/debug.ts";
import { ConfigError, DisconnectError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { VERSION } from "../api/version.ts";

const UNITS: Readonly<Record<string, number>> = {
  "": 1e6,
  s: 1e6,
  ms: 1e3,
  us: 1,
  "μs": 1,
  ns: 1e-3,
};

/** A delay as nbdkit_parse_delay reads it, in whole microseconds. */
export function parseDelayMicroseconds(what: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|ms|us|μs|ns)?$/.exec(text);
  if (!match) throw new ConfigError(`${what}: could not parse delay: '${text}'`);
  return Math.floor(Number(match[1]) * UNITS[match[2] ?? ""]);
}

export function createTimeLimitFilter(): Filter {
  let limit = 60e6;
  return {
    name: "time-limit",
    longname: "nbdts time limit filter",
    version: VERSION,

    config(next, key, value) {
      if (key === "time-limit" || key === "time_limit" || key === "timelimit") {
        limit = parseDelayMicroseconds(key, value);
      } else return next(key, value);
    },

    async open(next, readonly, exportName) {
      const started = performance.now();
      const below = await next(readonly, exportName);
      /** Drops the connection once it has lasted longer than the limit. */
      const check = () => {
        if (limit === 0 || (performance.now() - started) * 1000 <= limit) return;
        debug("time-limit: time limit exceeded, connection closed");
        throw new DisconnectError("time limit exceeded, connection closed");
      };
      return {
        readAt(buf, offset) {
          check();
          return below.readAt(buf, offset);
        },
        writeAt(buf, offset, flags) {
          check();
          return below.writeAt(buf, offset, flags);
        },
        trim(count, offset, flags) {
          check();
          return below.trim(count, offset, flags);
        },
        zero(count, offset, flags) {
          check();
          return below.zero(count, offset, flags);
        },
        extents(count, offset, flags, sink) {
          check();
          return below.extents(count, offset, flags, sink);
        },
        cache(count, offset, flags) {
          check();
          return below.cache(count, offset, flags);
        },
      };
    },
  };
}
