/**
 * The retry filter (man nbdkit-retry-filter): when a request to the plugin fails, waits, closes
 * the plugin's connection, opens it again and retries the request, up to `retries=` times (5)
 * before the error goes to the client. The first wait is `retry-delay=` seconds (2), doubling
 * each time unless `retry-exponential=false`; `retry-readonly=true` reopens read-only, after
 * which writes, trims and zeroes fail with EROFS. A failure to close or reopen counts as one
 * more failed try (ESHUTDOWN). Requests are serialized per connection (nbdkit's thread model
 * for it), since a reopen replaces the layer below under every request of the connection.
 */

import { debug } from "../api/debug.ts";
import { ConfigError, ERRNO, type Errno, errnoOf, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle, NextReopen } from "../api/filter.ts";
import { parseBool } from "../api/parse.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { FLAG, THREAD_MODEL } from "../api/plugin.ts";
import { sleep } from "../api/sleep.ts";
import { VERSION } from "../api/version.ts";
import { tryingOn } from "./retry-attempt.ts";
import { handlersOf, OP, opName, type RequestHandler } from "./request-op.ts";

/** Linux's numbers for the errnos a retried request may fail with: nbdkit's debug line shows it. */
const ERRNO_NUMBER: Readonly<Partial<Record<Errno, number>>> = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  EOPNOTSUPP: 95,
  ESHUTDOWN: 108,
};

interface Settings {
  retries: number;
  /** The first wait, in seconds. */
  delay: number;
  exponential: boolean;
  readonly: boolean;
}

export function createRetryFilter(): Filter {
  const settings: Settings = { retries: 5, delay: 2, exponential: true, readonly: false };
  return {
    name: "retry",
    longname: "nbdts retry filter",
    version: VERSION,
    configHelp: "retries=<N>              Number of retries (default: 5).\n" +
      "retry-delay=<N>          Seconds to wait before retry (default: 2).\n" +
      "retry-exponential=yes|no Exponential back-off (default: yes).\n" +
      "retry-readonly=yes|no    Force read-only on failure (default: no).",

    config(next, key, value) {
      if (key === "retries") settings.retries = parseUnsigned("retries", value);
      else if (key === "retry-delay") {
        settings.delay = parseUnsigned("retry-delay", value);
        if (settings.delay === 0) throw new ConfigError("retry-delay cannot be 0");
      } else if (key === "retry-exponential") settings.exponential = parseBool(value);
      else if (key === "retry-readonly") settings.readonly = parseBool(value);
      else return next(key, value);
    },

    threadModel: () => THREAD_MODEL.SERIALIZE_REQUESTS,

    async open(next, readonly, exportName, _tls, { reopen }) {
      const below = await next(readonly, exportName);
      const connection = new RetryConnection(settings, below, reopen, readonly, exportName);
      return {
        ...handlersOf(connection.run),
        close: () => debug(`reopens needed: ${connection.reopens}`),
      };
    },
  };
}

/** One connection: the layer below as it is now, and how often it was reopened. */
class RetryConnection {
  reopens = 0;
  /** The layer below, or undefined while a reopen has failed. */
  private below: NextHandle | undefined;
  /** One try of a request on `below`. */
  private attempt: RequestHandler;
  private readonly settings: Settings;
  private readonly reopenBelow: NextReopen;
  private readonly readonly: boolean;
  private readonly exportName: string;

  constructor(
    settings: Settings,
    below: NextHandle,
    reopenBelow: NextReopen,
    readonly: boolean,
    exportName: string,
  ) {
    this.settings = settings;
    this.below = below;
    this.attempt = tryingOn(below);
    this.reopenBelow = reopenBelow;
    this.readonly = readonly;
    this.exportName = exportName;
  }

  /** A request, tried until it succeeds or the retries are used up. */
  readonly run: RequestHandler = async (op, buf, count, offset, flags, sink) => {
    let retry = 0;
    let delay = this.settings.delay;
    for (;;) {
      // Neither is a failure to retry: they fail at once, as nbdkit's do.
      if (this.reopens > 0 && this.settings.readonly && writes(op)) {
        throw new NbdError(ERRNO.EROFS, "retry: read-only after a reopen (retry-readonly)");
      }
      if (op === OP.ZERO && flags & FLAG.FAST_ZERO && !(await this.below?.canFastZero())) {
        throw new NbdError(ERRNO.ENOTSUP, "retry: the plugin cannot zero fast");
      }
      let failure: unknown;
      try {
        await this.attempt(op, buf, count, offset, flags, sink);
        return;
      } catch (error) {
        failure = error;
      }
      // Each failed try (the request, or the reopen before it) uses up one retry.
      for (;;) {
        if (retry >= this.settings.retries) {
          debug(`could not recover after ${this.settings.retries} retries`);
          throw failure;
        }
        const errno = errnoOf(failure);
        debug(`${opName(op)} failed: original errno = ${ERRNO_NUMBER[errno] ?? 5}`);
        debug(`retry ${retry + 1}: waiting ${delay} seconds before retrying`);
        await sleep(delay * 1000);
        retry++;
        if (this.settings.exponential) delay *= 2;
        try {
          await this.reopen();
          break;
        } catch (error) {
          debug(`retry: reopen failed: ${error instanceof Error ? error.message : error}`);
          failure = new NbdError(ERRNO.ESHUTDOWN, "retry: could not reopen the plugin");
        }
      }
    }
  };

  private async reopen(): Promise<void> {
    this.reopens++;
    this.below = undefined;
    this.attempt = tryingOn(undefined);
    const readonly = this.readonly || this.settings.readonly;
    this.below = await this.reopenBelow(readonly, this.exportName);
    this.attempt = tryingOn(this.below);
  }
}

function writes(op: number): boolean {
  return op === OP.WRITE || op === OP.TRIM || op === OP.ZERO;
}
