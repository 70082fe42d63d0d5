/**
 * The stats filter (man nbdkit-stats-filter): counts each kind of request that succeeded, its
 * bytes and the time spent below this filter, and how its sizes and offsets were spread, and
 * writes nbdkit's report (stats-format.ts) to `statsfile=` (required) when the server exits;
 * `statsappend=true` adds to the file instead of emptying it at start-up, `statsthreshold=`
 * (0 to 100, default 95) is the share of requests the size breakdown covers (0: none).
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import type { Offset } from "../api/plugin.ts";
import { parseBool } from "../api/parse.ts";
import { parseInt32 } from "../api/parse-integer.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost, TextOutput } from "../io.ts";
import { newStat, report, type Stat } from "./stats-format.ts";

/** The kinds of request in the report's order; each gets one Stat. */
const KIND = { READ: 0, WRITE: 1, TRIM: 2, ZERO: 3, EXTENTS: 4, CACHE: 5, FLUSH: 6 } as const;
const NAMES = ["read", "write", "trim", "zero", "extents", "cache", "flush"];

export function createStatsFilter(host?: PluginHost): Filter {
  let file: string | undefined;
  let append = false;
  let threshold = 0.95;
  let output: TextOutput | undefined;
  let started = 0;
  const stats: Stat[] = NAMES.map(newStat);

  /** Counts a request that succeeded, `start` (performance.now()) being when it began. */
  function record(kind: number, size: number, offset: Offset, start: number): void {
    const stat = stats[kind];
    stat.ops++;
    stat.bytes += size;
    stat.usecs += Math.floor((performance.now() - start) * 1000);
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
      "statsappend=<BOOL>  True to append to the log (default false).",

    config(next, key, value) {
      if (key === "statsfile") file = value;
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
      if (file === undefined) throw new ConfigError("stats filter requires statsfile parameter");
      if (host?.openTextOutput === undefined) {
        throw new ConfigError("statsfile: this runtime cannot write files");
      }
      return next();
    },

    async getReady() {
      try {
        output = await host!.openTextOutput!(file!, append);
      } catch (error) {
        throw new ConfigError(`open: ${file}: ${error instanceof Error ? error.message : error}`);
      }
      started = performance.now();
    },

    unload() {
      const usecs = Math.floor((performance.now() - started) * 1000);
      if (output !== undefined && usecs > 0) output.write(report(stats, usecs, threshold));
      output?.close();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      return {
        async readAt(buf, offset) {
          const start = performance.now();
          await below.readAt(buf, offset);
          record(KIND.READ, buf.length, offset, start);
        },
        async writeAt(buf, offset, flags) {
          const start = performance.now();
          await below.writeAt(buf, offset, flags);
          record(KIND.WRITE, buf.length, offset, start);
        },
        async trim(count, offset, flags) {
          const start = performance.now();
          await below.trim(count, offset, flags);
          record(KIND.TRIM, count, offset, start);
        },
        async zero(count, offset, flags) {
          const start = performance.now();
          await below.zero(count, offset, flags);
          record(KIND.ZERO, count, offset, start);
        },
        async extents(count, offset, flags, sink) {
          const start = performance.now();
          await below.extents(count, offset, flags, sink);
          record(KIND.EXTENTS, count, offset, start);
        },
        async cache(count, offset, flags) {
          const start = performance.now();
          await below.cache(count, offset, flags);
          record(KIND.CACHE, count, offset, start);
        },
        async flush(flags) {
          const start = performance.now();
          await below.flush(flags);
          record(KIND.FLUSH, 0, 0, start);
        },
      };
    },
  };
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
