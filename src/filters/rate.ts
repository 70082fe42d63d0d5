/**
 * The rate filter (man nbdkit-rate-filter): limits the bandwidth of reads and of writes, each
 * on its own, to `rate=` bits per second across the server and `connection-rate=` per
 * connection (sizes with nbdkit's suffixes: 1M is 1048576 bits per second). A request waits
 * until its bytes' bits have flowed into a token bucket (rate-bucket.ts), which starts full
 * and holds `burstiness=` seconds' worth (2.0). `rate-file=` and `connection-rate-file=` name
 * files whose first line, read before each request, sets a new rate while the server runs; a
 * missing or unreadable file changes nothing. Waits end early, failing their request with
 * ESHUTDOWN, when the server stops.
 */

import { debug } from "../api/debug.ts";
import { logError } from "../api/error-log.ts";
import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseSize } from "../api/parse.ts";
import { sleep } from "../api/sleep.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { Bucket } from "./rate-bucket.ts";

/** Microseconds since some fixed point, as the buckets count time. */
function nowUsecs(): number {
  return performance.now() * 1000;
}

export function createRateFilter(host?: PluginHost): Filter {
  let rate = 0;
  let connectionRate = 0;
  let rateFile: string | undefined;
  let connectionRateFile: string | undefined;
  let burstiness = 2.0;
  let reads: Bucket | undefined;
  let writes: Bucket | undefined;

  /** Sets the bucket's rate from the first line of `file`, if there is one to read. */
  async function maybeAdjust(file: string | undefined, bucket: Bucket): Promise<void> {
    if (file === undefined) return;
    let text: string;
    try {
      text = new TextDecoder().decode(await host!.readFile(file, 0, undefined));
    } catch {
      return; // not an error: the file may come later
    }
    let newRate: number;
    try {
      newRate = Number(parseSize(text.split("\n")[0]));
    } catch (error) {
      logError(error instanceof Error ? error.message : String(error)); // as nbdkit_parse_size
      return;
    }
    const old = bucket.adjust(newRate);
    if (old !== newRate) debug(`rate adjusted from ${old} to ${newRate}`);
  }

  /** Waits until `count` bytes may pass through `bucket`. */
  async function wait(bucket: Bucket, count: number): Promise<void> {
    const until = { usecs: 0 };
    for (let bits = count * 8; bits > 0;) {
      bits = bucket.take(bits, nowUsecs(), until);
      if (bits > 0) await sleep(until.usecs / 1000);
    }
  }

  /** Both limits on one request: the server's, then the connection's. */
  async function limit(global: Bucket, own: Bucket, count: number): Promise<void> {
    await maybeAdjust(rateFile, global);
    await wait(global, count);
    await maybeAdjust(connectionRateFile, own);
    await wait(own, count);
  }

  return {
    name: "rate",
    longname: "nbdts rate filter",
    version: VERSION,
    configHelp: "rate=BITSPERSEC                Limit total bandwidth.\n" +
      "connection-rate=BITSPERSEC     Limit per-connection bandwidth.\n" +
      "rate-file=FILENAME             Dynamically adjust total bandwidth.\n" +
      "connection-rate-file=FILENAME  Dynamically adjust per-connection bandwidth.",

    config(next, key, value) {
      if (key === "rate" || key === "connection-rate") {
        if ((key === "rate" ? rate : connectionRate) > 0) {
          throw new ConfigError(`${key} set twice on the command line`);
        }
        const bits = Number(parseSize(value));
        if (bits === 0) throw new ConfigError(`${key} cannot be set to 0`);
        if (key === "rate") rate = bits;
        else connectionRate = bits;
      } else if (key === "rate-file" || key === "connection-rate-file") {
        if (host?.readFile === undefined) {
          throw new ConfigError(`${key}: this runtime cannot read files`);
        }
        if (key === "rate-file") rateFile = value;
        else connectionRateFile = value;
      } else if (key === "burstiness") {
        const match = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(value);
        if (!match) {
          throw new ConfigError("burstiness must be a floating point number (seconds)");
        }
        burstiness = Number(match[0]);
      } else return next(key, value);
    },

    getReady() {
      reads = new Bucket(rate, burstiness, nowUsecs());
      writes = new Bucket(rate, burstiness, nowUsecs());
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const ownReads = new Bucket(connectionRate, burstiness, nowUsecs());
      const ownWrites = new Bucket(connectionRate, burstiness, nowUsecs());
      return {
        async readAt(buf, offset) {
          await limit(reads!, ownReads, buf.length);
          await below.readAt(buf, offset);
        },
        async writeAt(buf, offset, flags) {
          await limit(writes!, ownWrites, buf.length);
          await below.writeAt(buf, offset, flags);
        },
      };
    },
  };
}
