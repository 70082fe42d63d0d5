/**
 * The stats filter (man nbdkit-stats-filter): counts each kind of request that succeeded, its
 * bytes and the time spent below this filter, and how its sizes and offsets were spread, and
 * writes nbdkit's report (stats-format.ts) to `statsfile=` when the server exits;
 * `statsappend=true` adds to the file instead of emptying it at start-up, `statsthreshold=`
 * (0 to 100, default 95) is the share of requests the size breakdown covers (0: none).
 *
 * Beyond nbdkit, `statslisten=[HOST:]PORT` (HOST 127.0.0.1 when left out) or `statslisten=PATH`
 * (a Unix socket) serves the counters live over HTTP at /metrics, for Prometheus
 * (stats-endpoint.ts), with failed requests, latency histograms and connections besides
 * (stats-live.ts). One of statsfile= and statslisten= is required.
 */

import { debug } from "../api/debug.ts";
import { ConfigError, messageOf } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseHostPort } from "../api/listen-address.ts";
import type { Offset } from "../api/plugin.ts";
import { parseBool } from "../api/parse.ts";
import { parseInt32 } from "../api/parse-integer.ts";
import { VERSION } from "../api/version.ts";
import type { HttpAddress, Listener, PluginHost, TextOutput } from "../io.ts";
import { METRICS_PATH, metricsEndpoint } from "./stats-endpoint.ts";
import { newStat, report, type Stat } from "./stats-format.ts";
import { LiveStats } from "./stats-live.ts";

/** The kinds of request in the report's order; each gets one Stat. */
const KIND = { READ: 0, WRITE: 1, TRIM: 2, ZERO: 3, EXTENTS: 4, CACHE: 5, FLUSH: 6 } as const;
const NAMES = ["read", "write", "trim", "zero", "extents", "cache", "flush"];

export function createStatsFilter(host?: PluginHost): Filter {
  let file: string | undefined;
  let append = false;
  let threshold = 0.95;
  let output: TextOutput | undefined;
  let listen: HttpAddress | undefined;
  let live: LiveStats | undefined;
  let listener: Listener | undefined;
  let started = 0;
  const stats: Stat[] = NAMES.map(newStat);

  /** Counts a request that succeeded, `start` (performance.now()) being when it began. */
  function succeeded(kind: number, size: number, offset: Offset, start: number): void {
    const ms = performance.now() - start;
    if (file !== undefined) record(kind, size, offset, ms);
    live?.succeeded(kind, size, ms / 1000);
  }

  /** A request that failed counts only live (nbdkit's report leaves it out), then goes on up. */
  function failed(kind: number, error: unknown): unknown {
    live?.failed(kind);
    return error;
  }

  /** Counts a request that succeeded in nbdkit's report, having taken `ms` milliseconds. */
  function record(kind: number, size: number, offset: Offset, ms: number): void {
    const stat = stats[kind];
    stat.ops++;
    stat.bytes += size;
    stat.usecs += Math.floor(ms * 1000);
    if (threshold === 0 || size === 0) return;
    const sizeBits = 31 - Math.clz32(size);
    const alignBits = trailingZeroBits(offset);
    let alignments = stat.count.get(sizeBits);
    if (alignments === undefined) stat.count.set(sizeBits, alignments = new Map());
    alignments.set(alignBits, (alignments.get(alignBits) ?? 0) + 1);
    stat.size.set(sizeBits, (stat.size.get(sizeBits) ?? 0) + size);
  }

  return {
    name: "stats",
    longname: "nbdts stats filter",
    version: VERSION,
    configHelp: "statsfile=<FILE>    (required) The file to place the log in.\n" +
      "statsappend=<BOOL>  True to append to the log (default false).\n" +
      "statslisten=<ADDR>  Serve live metrics over HTTP at [HOST:]PORT or a socket path.",

    config(next, key, value) {
      if (key === "statsfile") file = value;
      else if (key === "statslisten") listen = parseListen(value);
      else if (key === "statsappend") append = parseBool(value);
      else if (key === "statsthreshold") {
        const percent = parseInt32("printing threshold", value);
        if (percent > 100 || percent < 0) {
          throw new ConfigError("statsthreshold must be between 0 and 100 (percent)");
        }
        threshold = percent / 100;
      } else return next(key, value);
    },

    configComplete(next) {
      if (file === undefined && listen === undefined) {
        throw new ConfigError("stats filter requires statsfile parameter");
      }
      if (file !== undefined && host?.openTextOutput === undefined) {
        throw new ConfigError("statsfile: this runtime cannot write files");
      }
      if (listen !== undefined && host?.serveHttp === undefined) {
        throw new ConfigError("statslisten: this runtime cannot serve HTTP");
      }
      return next();
    },

    async getReady() {
      if (file !== undefined) {
        try {
          output = await host!.openTextOutput!(file, append);
        } catch (error) {
          throw new ConfigError(`open: ${file}: ${messageOf(error)}`);
        }
      }
      if (listen !== undefined) {
        live = new LiveStats(NAMES);
        const where = describe(listen);
        try {
          listener = await host!.serveHttp!(listen, metricsEndpoint(live));
        } catch (error) {
          throw new ConfigError(`statslisten: cannot listen on ${where}: ${messageOf(error)}`);
        }
        debug(
          listen.kind === "tcp"
            ? `stats: metrics at ${
              describe({ ...listen, port: listener.port ?? 0 })
            }${METRICS_PATH}`
            : `stats: metrics at ${METRICS_PATH} on the Unix socket ${listen.path}`,
        );
      }
      started = performance.now();
    },

    async unload() {
      const usecs = Math.floor((performance.now() - started) * 1000);
      if (output !== undefined && usecs > 0) output.write(report(stats, usecs, threshold));
      output?.close();
      await listener?.close();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      if (live !== undefined) {
        live.connectionsOpened++;
        live.connectionsActive++;
      }
      return {
        close() {
          if (live !== undefined) live.connectionsActive--;
        },
        async readAt(buf, offset) {
          const start = performance.now();
          try {
            await below.readAt(buf, offset);
          } catch (error) {
            throw failed(KIND.READ, error);
          }
          succeeded(KIND.READ, buf.length, offset, start);
        },
        async writeAt(buf, offset, flags) {
          const start = performance.now();
          try {
            await below.writeAt(buf, offset, flags);
          } catch (error) {
            throw failed(KIND.WRITE, error);
          }
          succeeded(KIND.WRITE, buf.length, offset, start);
        },
        async trim(count, offset, flags) {
          const start = performance.now();
          try {
            await below.trim(count, offset, flags);
          } catch (error) {
            throw failed(KIND.TRIM, error);
          }
          succeeded(KIND.TRIM, count, offset, start);
        },
        async zero(count, offset, flags) {
          const start = performance.now();
          try {
            await below.zero(count, offset, flags);
          } catch (error) {
            throw failed(KIND.ZERO, error);
          }
          succeeded(KIND.ZERO, count, offset, start);
        },
        async extents(count, offset, flags, sink) {
          const start = performance.now();
          try {
            await below.extents(count, offset, flags, sink);
          } catch (error) {
            throw failed(KIND.EXTENTS, error);
          }
          succeeded(KIND.EXTENTS, count, offset, start);
        },
        async cache(count, offset, flags) {
          const start = performance.now();
          try {
            await below.cache(count, offset, flags);
          } catch (error) {
            throw failed(KIND.CACHE, error);
          }
          succeeded(KIND.CACHE, count, offset, start);
        },
        async flush(flags) {
          const start = performance.now();
          try {
            await below.flush(flags);
          } catch (error) {
            throw failed(KIND.FLUSH, error);
          }
          succeeded(KIND.FLUSH, 0, 0, start);
        },
      };
    },
  };
}

/** statslisten=: a path (with a "/") is a Unix socket, else [HOST:]PORT (HOST: 127.0.0.1). */
function parseListen(text: string): HttpAddress {
  if (text.includes("/")) return { kind: "unix", path: text };
  const address = parseHostPort(text);
  if (address === undefined) {
    throw new ConfigError(
      `statslisten: cannot parse '${text}': expected [HOST:]PORT or a Unix socket path`,
    );
  }
  return { kind: "tcp", host: address.host ?? "127.0.0.1", port: address.port };
}

/** http://HOST:PORT (brackets around an IPv6 HOST), or the socket's path, for messages. */
function describe(address: HttpAddress): string {
  if (address.kind === "unix") return address.path;
  const host = address.host?.includes(":") ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}`;
}

/** How many low bits of `offset` are zero; -1 for offset 0, which nbdkit counts apart. */
function trailingZeroBits(offset: Offset): number {
  if (offset === 0 || offset === 0n) return -1;
  if (typeof offset === "number") {
    const low = offset % 2 ** 32;
    if (low !== 0) return 31 - Math.clz32(low & -low);
    const high = Math.floor(offset / 2 ** 32);
    return 32 + 31 - Math.clz32(high & -high);
  }
  let bits = 0;
  for (let rest = offset; (rest & 1n) === 0n; rest >>= 1n) bits++;
  return bits;
}
