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
import { type Attempt, extentsAfresh, OP } from "./retry-attempt.ts";

interface Settings {
  retries: number;
  /** Seconds between tries. */
  delay: number;
  retryOpen: boolean;
}

export function createRetryRequestFilter(): Filter {
  const settings: Settings = { retries: 2, delay: 2, retryOpen: true };

  /** Runs `attempt` until it succeeds or the retries are used up; the last failure goes on. */
  async function retried(below: NextHandle, ...attempt: Attempt): Promise<void> {
    for (let i = 0;; i++) {
      try {
        return await once(below, ...attempt);
      } catch (error) {
        if (i >= settings.retries) throw error;
      }
      debug(`retry ${i + 1}: waiting ${settings.delay} seconds before retrying`);
      await sleep(settings.delay * 1000);
    }
  }

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
      return {
        readAt: (buf, offset) => retried(below, OP.READ, buf, 0, offset, 0, undefined),
        writeAt: (buf, offset, flags) => retried(below, OP.WRITE, buf, 0, offset, flags, undefined),
        trim: (count, offset, flags) =>
          retried(below, OP.TRIM, undefined, count, offset, flags, undefined),
        zero: (count, offset, flags) =>
          retried(below, OP.ZERO, undefined, count, offset, flags, undefined),
        flush: () => retried(below, OP.FLUSH, undefined, 0, 0, 0, undefined),
        extents: (count, offset, flags, sink) =>
          retried(below, OP.EXTENTS, undefined, count, offset, flags, sink),
        cache: (count, offset, flags) =>
          retried(below, OP.CACHE, undefined, count, offset, flags, undefined),
      };
    },
  };
}

/** The request made once, as it came: no checks of its own, unlike the retry filter's. */
async function once(
  below: NextHandle,
  ...[op, buf, count, offset, flags, sink]: Attempt
): Promise<void> {
  switch (op) {
    case OP.READ:
      return await below.readAt(buf!, offset);
    case OP.WRITE:
      return await below.writeAt(buf!, offset, flags);
    case OP.TRIM:
      return await below.trim(count, offset, flags);
    case OP.ZERO:
      return await below.zero(count, offset, flags);
    case OP.FLUSH:
      return await below.flush(0);
    case OP.EXTENTS:
      return await extentsAfresh(below, count, offset, flags, sink!);
    case OP.CACHE:
      return await below.cache(count, offset, flags);
  }
}
