/**
 * The delay filter (man nbdkit-delay-filter): makes requests slow, to test clients. Each kind
 * of request waits its delay before it goes on: `rdelay=`/`delay-read=`, `delay-write=`,
 * `delay-zero=`, `delay-trim=`, `delay-extents=`, `delay-cache=` (`wdelay=` sets write, zero
 * and trim at once), in seconds or with `ms` in milliseconds. `delay-open=` slows opening an
 * export, `delay-close=` a client's orderly goodbye (NBD_CMD_DISC: the delay runs before the
 * layers close, while the client still waits). `delay-fast-zero=false` fails fast zeroes at
 * once with ENOTSUP instead of delaying them (and offers fast zero for that). A request's delay
 * ends early, failing it with ESHUTDOWN, when the server stops (sleep()).
 */

import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { type ExtentSink, FLAG, type Offset } from "../api/plugin.ts";
import { parseBool } from "../api/parse.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { sleep } from "../api/sleep.ts";
import { VERSION } from "../api/version.ts";

const UINT_MAX = 0xffff_ffff;

/** Each delay in milliseconds; 0 is none. */
interface Delays {
  read: number;
  write: number;
  zero: number;
  trim: number;
  extents: number;
  cache: number;
  open: number;
  close: number;
}

/** Which delay each parameter sets (wdelay sets three: handled apart). */
const KEYS: Readonly<Record<string, keyof Delays>> = {
  rdelay: "read",
  "delay-read": "read",
  "delay-reads": "read",
  "delay-write": "write",
  "delay-writes": "write",
  "delay-zero": "zero",
  "delay-zeroes": "zero",
  "delay-trim": "trim",
  "delay-trims": "trim",
  "delay-discard": "trim",
  "delay-discards": "trim",
  "delay-extent": "extents",
  "delay-extents": "extents",
  "delay-cache": "cache",
  "delay-open": "open",
  "delay-close": "close",
};

/**
 * A delay as nbdkit reads one: "NN" seconds, or "NNms" milliseconds (the number read as
 * sscanf's %u reads it: leading digits, the rest ignored).
 */
export function parseDelay(key: string, value: string): number {
  if (value.length > 2 && value.endsWith("ms")) {
    const match = /^[ \t\n\v\f\r]*\+?(\d+)/.exec(value);
    if (!match) throw new ConfigError(`cannot parse ${key} in milliseconds parameter: ${value}`);
    return Number(BigInt(match[1]) % 0x1_0000_0000n);
  }
  const seconds = parseUnsigned(key, value);
  if (seconds * 1000 > UINT_MAX) {
    throw new ConfigError(`seconds parameter ${key} is too large: ${value}`);
  }
  return seconds * 1000;
}

export function createDelayFilter(): Filter {
  const delays: Delays = {
    read: 0,
    write: 0,
    zero: 0,
    trim: 0,
    extents: 0,
    cache: 0,
    open: 0,
    close: 0,
  };
  let delayFastZero = true;
  return {
    name: "delay",
    longname: "nbdts delay filter",
    version: VERSION,
    configHelp: "rdelay=<NN>[ms]                Read delay in seconds/milliseconds.\n" +
      "delay-read=<NN>[ms]            Read delay in seconds/milliseconds.\n" +
      "delay-write=<NN>[ms]           Write delay in seconds/milliseconds.\n" +
      "delay-zero=<NN>[ms]            Zero delay in seconds/milliseconds.\n" +
      "delay-trim=<NN>[ms]            Trim delay in seconds/milliseconds.\n" +
      "delay-extents=<NN>[ms]         Extents delay in seconds/milliseconds.\n" +
      "delay-cache=<NN>[ms]           Cache delay in seconds/milliseconds.\n" +
      "wdelay=<NN>[ms]                Write, zero and trim delay in secs/msecs.\n" +
      "delay-fast-zero=<BOOL>         Delay fast zero requests (default true).\n" +
      "delay-open=<NN>[ms]            Open delay in seconds/milliseconds.\n" +
      "delay-close=<NN>[ms]           Close delay in seconds/milliseconds.",

    config(next, key, value) {
      if (key === "wdelay") {
        // Historically wdelay set every write-like delay.
        delays.write = delays.zero = delays.trim = parseDelay(key, value);
      } else if (Object.hasOwn(KEYS, key)) delays[KEYS[key]] = parseDelay(key, value);
      else if (key === "delay-fast-zero") delayFastZero = parseBool(value);
      else return next(key, value);
    },

    async open(next, readonly, exportName) {
      if (delays.open > 0) await sleep(delays.open);
      const below = await next(readonly, exportName);
      const refuseFast = delays.zero > 0 && !delayFastZero;
      // Only the delayed kinds are overridden: the rest pass straight through.
      return {
        canFastZero: () => refuseFast || below.canFastZero(),
        ...(delays.read > 0 && {
          readAt: (buf: Uint8Array, offset: Offset) =>
            afterDelay(delays.read, () => below.readAt(buf, offset)),
        }),
        ...(delays.write > 0 && {
          writeAt: (buf: Uint8Array, offset: Offset, flags: number) =>
            afterDelay(delays.write, () => below.writeAt(buf, offset, flags)),
        }),
        ...(delays.zero > 0 && {
          zero: (count: number, offset: Offset, flags: number) =>
            refuseFast && flags & FLAG.FAST_ZERO
              ? Promise.reject(fastZeroRefused())
              : afterDelay(delays.zero, () => below.zero(count, offset, flags)),
        }),
        ...(delays.trim > 0 && {
          trim: (count: number, offset: Offset, flags: number) =>
            afterDelay(delays.trim, () => below.trim(count, offset, flags)),
        }),
        ...(delays.extents > 0 && {
          extents: (count: number, offset: Offset, flags: number, sink: ExtentSink) =>
            afterDelay(delays.extents, () => below.extents(count, offset, flags, sink)),
        }),
        ...(delays.cache > 0 && {
          cache: (count: number, offset: Offset, flags: number) =>
            afterDelay(delays.cache, () => below.cache(count, offset, flags)),
        }),
        async finalize() {
          // A plain timer, as nbdkit's: the client waits for the close even when stopping.
          if (delays.close > 0) await new Promise((done) => setTimeout(done, delays.close));
        },
      };
    },
  };
}

/** Waits `ms`, then makes the call to the layer below (a delayed request is slow anyway). */
async function afterDelay(ms: number, call: () => unknown): Promise<void> {
  await sleep(ms);
  await call();
}

/** delay-fast-zero=false: a fast zero fails at once instead of waiting. */
function fastZeroRefused(): NbdError {
  return new NbdError(ERRNO.ENOTSUP, "delay: fast zero refused (delay-fast-zero=false)");
}
