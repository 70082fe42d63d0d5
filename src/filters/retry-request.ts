/**
 * The retry-request filter (man nbdkit-retry-request-filter): a request to the plugin that
 * fails is simply made again, on the same connection, up to `retry-request-retries=` times (2,
 * at most 1000), `retry-request-delay=` seconds apart (2); opening the plugin is retried the
 * same way unless `retry-request-open=false`. Unlike the retry filter it never reopens the
 * plugin, so requests keep running in parallel.
 */

import { debug } from "../api/debug.ts";
import { ConfigError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { parseBool } from "../api/parse.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { sleep } from "../api/sleep.ts";
import { VERSION } from "../api/version.ts";
import { extentsAfresh } from "./retry-attempt.ts";
import { callingBelow, handlersOf, OP, type RequestHandler } from "./request-op.ts";

interface Settings {
  retries: number;
  /** Seconds between tries. */
  delay: number;
  retryOpen: boolean;
}

export function createRetryRequestFilter(): Filter {
  const settings: Settings = { retries: 2, delay: 2, retryOpen: true };

  return {
    name: "retry-request",
    longname: "nbdts retry request filter",
    version: VERSION,
    configHelp: "retry-request-retries=<N> Number of retries (default: 2).\n" +
      "retry-request-delay=<N>   Seconds to wait before retry (default: 2).\n" +
      "retry-request-open=false  Do not retry opening the plugin (default: true).",

    config(next, key, value) {
      if (key === "retry-request-retries") {
        settings.retries = parseUnsigned(key, value);
        if (settings.retries > 1000) {
          throw new ConfigError("retry-request-retries: value too large");
        }
      } else if (key === "retry-request-delay") {
        settings.delay = parseUnsigned(key, value);
        if (settings.delay === 0) throw new ConfigError("retry-request-delay cannot be 0");
      } else if (key === "retry-request-open") settings.retryOpen = parseBool(value);
      else return next(key, value);
    },

    async open(next, readonly, exportName) {
      let below: NextHandle;
      for (let i = 0;; i++) {
        try {
          below = await next(readonly, exportName);
          break;
        } catch (error) {
          if (!settings.retryOpen || i >= settings.retries) throw error;
        }
        debug(`retry ${i + 1}: waiting ${settings.delay} seconds before retrying`);
        await sleep(settings.delay * 1000);
      }
      return handlersOf(retrying(settings, below));
    },
  };
}

/** Makes each request on `below` until it succeeds or the retries are used up. */
function retrying(settings: Settings, below: NextHandle): RequestHandler {
  const call = callingBelow(below);
  return async (op, buf, count, offset, flags, sink) => {
    for (let i = 0;; i++) {
      try {
        // Extents are gathered afresh for each try.
        if (op === OP.EXTENTS) return await extentsAfresh(below, count, offset, flags, sink!);
        return void await call(op, buf, count, offset, flags, sink);
      } catch (error) {
        if (i >= settings.retries) throw error; // the last failure goes on
      }
      debug(`retry ${i + 1}: waiting ${settings.delay} seconds before retrying`);
      await sleep(settings.delay * 1000);
    }
  };
}
