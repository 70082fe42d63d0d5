/**
 * The spinning filter (man nbdkit-spinning-filter, nbdkit 1.40): makes the disk behave like a
 * spinning one. Each read, write or zero first moves a simulated head to its offset, waiting
 * the seek time when the head moves more than a track (128 KiB): a quadratic curve through
 * `min-seek-time=` (0.01 s, a track), `half-seek-time=` (0.2 s, half the disk) and
 * `max-seek-time=` (0.5 s, the whole disk). `heads=N` (1 to 64) splits the disk among N heads,
 * on one arm that moves them all together and serializes every seek, or with
 * `separate-heads=true` each on its own. Each connection has its own heads. The export says it
 * is rotational, and not multi-conn (each connection's heads are its own).
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseBool } from "../api/parse.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import type { Offset } from "../api/plugin.ts";
import { sleep } from "../api/sleep.ts";
import { debug } from "../api/debug.ts";
import { VERSION } from "../api/version.ts";
import { RwLock } from "./rw-lock.ts";

/** A seek shorter than this (bytes) costs nothing. */
const TRACK_SIZE = 128 * 1024;

/** One head: the part of the disk it serves, where it is, and the lock held while it seeks. */
interface Head {
  readonly start: number;
  readonly end: number;
  position: number;
  readonly lock: RwLock;
}

interface Settings {
  heads: number;
  separate: boolean;
  min: number;
  half: number;
  max: number;
}

/** A seek time in seconds as sscanf's %lf reads it (a leading number), at least 0. */
function parseSeekTime(key: string, value: string): number {
  const match = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(value);
  const seconds = match ? Number(match[0]) : NaN;
  if (!(seconds >= 0)) throw new ConfigError(`${key} must be a number >= 0 (was: "${value}")`);
  return seconds;
}

export function createSpinningFilter(): Filter {
  const settings: Settings = { heads: 1, separate: false, min: 0.01, half: 0.2, max: 0.5 };
  /** The seek time curve a·x² + b·x + c, x the share of a head's range crossed. */
  let a = 0;
  let b = 0;
  let c = 0;
  const seekTime = (x: number) => a * x * x + b * x + c;

  return {
    name: "spinning",
    longname: "nbdts spinning filter",
    version: VERSION,
    configHelp: "heads=N                 Set the number of heads (default: 1)\n" +
      "separate-heads=BOOL     Use separate heads (default: false)\n" +
      "min-seek-time=N         Set track-to-track seek time (default: 0.01)\n" +
      "half-seek-time=N        Set half disk seek time (default: 0.2)\n" +
      "max-seek-time=N         Set whole disk seek time (default: 0.5)",

    config(next, key, value) {
      if (key === "heads") {
        settings.heads = parseUnsigned("heads", value);
        if (settings.heads === 0 || settings.heads > 64) {
          throw new ConfigError(`heads must be in the range [1..64] (was: ${settings.heads})`);
        }
      } else if (key === "separate-heads") settings.separate = parseBool(value);
      else if (key === "min-seek-time") settings.min = parseSeekTime(key, value);
      else if (key === "half-seek-time") settings.half = parseSeekTime(key, value);
      else if (key === "max-seek-time") settings.max = parseSeekTime(key, value);
      else return next(key, value);
    },

    configComplete(next) {
      // Through (0, min), (0.5, half) and (1, max).
      a = 2 * (settings.max - 2 * settings.half + settings.min);
      b = 2 * (settings.half - settings.min - a / 4);
      c = settings.min;
      debug(`spinning: [min, half, max] = ${settings.min}, ${settings.half}, ${settings.max}`);
      debug(`spinning: quadratic curve: ${a} x^2 + ${b} x + ${c}`);
      if (
        Math.abs(seekTime(0) - settings.min) >= 0.0005 ||
        Math.abs(seekTime(0.5) - settings.half) >= 0.0005 ||
        Math.abs(seekTime(1) - settings.max) >= 0.0005
      ) {
        throw new ConfigError(
          "in the spinning filter, seek time quadratic is not stable, try using different " +
            "{min,half,max}-seek-time parameters and/or enable debugging and look at the " +
            "quadratic curve",
        );
      }
      return next();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      let heads: Head[] = [];
      /** Moves the head serving `offset` there, waiting the seek time under its arm's lock. */
      const seek = async (offset: Offset) => {
        const at = Number(offset);
        const head = headAt(heads, at);
        if (head === undefined) return;
        const arm = settings.separate ? head : heads[0];
        await arm.lock.write();
        try {
          const delta = Math.abs(head.position - at);
          if (settings.separate) head.position = at;
          else for (const one of heads) one.position = one.start + (at - head.start);
          if (delta <= TRACK_SIZE) return;
          const seconds = seekTime(delta / (head.end - head.start));
          if (seconds >= 0) await sleep(seconds * 1000).catch(() => {}); // as nbdkit: unchecked
        } finally {
          arm.lock.releaseWrite();
        }
      };
      return {
        async prepare() {
          heads = splitAmongHeads(Number(await below.getSize()), settings.heads);
          debug(`spinning: heads ${heads.length}`);
        },
        isRotational: () => true,
        canMultiConn: () => false,
        async readAt(buf, offset) {
          await seek(offset);
          await below.readAt(buf, offset);
        },
        async writeAt(buf, offset, flags) {
          await seek(offset);
          await below.writeAt(buf, offset, flags);
        },
        async zero(count, offset, flags) {
          await seek(offset);
          await below.zero(count, offset, flags);
        },
      };
    },
  };
}

/** The disk split evenly among `wanted` heads (fewer when it has fewer bytes), each at its start. */
function splitAmongHeads(size: number, wanted: number): Head[] {
  const count = Math.min(wanted, size);
  const step = Math.floor(size / Math.max(count, 1));
  const heads: Head[] = [];
  for (let i = 0; i < count; i++) {
    const start = i * step;
    const end = i === count - 1 ? size : start + step;
    heads.push({ start, end, position: start, lock: new RwLock() });
  }
  return heads;
}

/** The head whose range holds `at` (ranges are in order: a binary search), if any. */
function headAt(heads: readonly Head[], at: number): Head | undefined {
  let low = 0;
  let high = heads.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const head = heads[middle];
    if (at < head.start) high = middle - 1;
    else if (at >= head.end) low = middle + 1;
    else return head;
  }
  return undefined;
}
