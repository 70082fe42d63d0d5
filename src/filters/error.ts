/**
 * The error filter (man nbdkit-error-filter; nbdkit names it "error-inject"): fails requests on
 * purpose, to test clients. `error=` picks the errno (EIO by default; EPERM, ENOMEM, EINVAL,
 * ENOSPC, ESHUTDOWN), `error-rate=` how often (0 to 1, or 0% to 100%; default never),
 * `error-file=` a file that must exist for errors to happen at all (checked before each
 * request, so a test can switch errors on and off at run time). Each setting also comes per
 * kind of request: `error-pread`, `-pwrite`, `-trim`, `-zero`, `-extents`, `-cache` with
 * `-rate` and `-file` after it.
 *
 * Which requests fail at rates between 0 and 1 is drawn from nbdkit's generator (xoshiro256**),
 * seeded from the clock as nbdkit seeds it, or from `error-seed=N`, which nbdkit lacks: with it
 * the same requests fail on every run.
 */

import { ConfigError, ERRNO, type Errno, NbdError } from "../api/errors.ts";
import { logError } from "../api/error-log.ts";
import type { Filter } from "../api/filter.ts";
import { parseUint64 } from "../api/parse-integer.ts";
import { VERSION } from "../api/version.ts";
import { Xoshiro256 } from "../api/xoshiro.ts";
import type { PluginHost } from "../io.ts";

/** The errnos nbdkit's filter can inject. */
const ERRORS = [
  ERRNO.EPERM,
  ERRNO.EIO,
  ERRNO.ENOMEM,
  ERRNO.EINVAL,
  ERRNO.ENOSPC,
  ERRNO.ESHUTDOWN,
] as const;

/** The kinds of request, in nbdkit's names: `error-KIND`, `error-KIND-rate`, `error-KIND-file`. */
const KINDS = ["pread", "pwrite", "trim", "zero", "extents", "cache"] as const;
type Kind = (typeof KINDS)[number];

/** One kind of request's settings. */
interface Settings {
  error: Errno;
  /** 0 never, 1 always. */
  rate: number;
  /** The trigger file, which must exist for errors to happen. */
  file: string | undefined;
}

const UINT32_MAX = 0xffff_ffff;

function parseError(key: string, value: string): Errno {
  if ((ERRORS as readonly string[]).includes(value)) return value as Errno;
  throw new ConfigError(`${key}: unknown error name '${value}'`);
}

/** A rate as nbdkit reads it (strtod, then an optional "%"), from 0 to 1. */
export function parseRate(key: string, value: string): number {
  const match = /^[ \t\n\v\f\r]*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))(%?)$/
    .exec(value);
  if (!match) throw new ConfigError(`${key}: could not parse rate '${value}'`);
  const rate = Number(match[1]) / (match[2] === "%" ? 100 : 1);
  if (rate < 0 || rate > 1) {
    throw new ConfigError(`${key}: rate out of range: '${value}' parsed as ${formatG(rate)}`);
  }
  return rate;
}

/** C's %g, enough for a rate's message: six significant digits, no trailing zeroes. */
function formatG(value: number): string {
  return String(Number(value.toPrecision(6)));
}

export function createErrorFilter(host?: PluginHost): Filter {
  const settings = Object.fromEntries(
    KINDS.map((kind) => [kind, { error: ERRNO.EIO, rate: 0, file: undefined }]),
  ) as Record<Kind, Settings>;
  let random: Xoshiro256 | undefined;
  let seed: bigint | undefined;

  /** Whether this request fails; if so, logs it as nbdkit does and returns the error. */
  const injected = (kind: Kind): NbdError | undefined => {
    const { error, rate, file } = settings[kind];
    if (rate <= 0) return undefined;
    if (file !== undefined && !host!.pathExists!(file)) return undefined;
    if (rate < 1) {
      random ??= new Xoshiro256(seed ?? Math.floor(Date.now() / 1000)); // time(NULL), as nbdkit
      random.next();
      if (random.outLo >= rate * UINT32_MAX) return undefined;
    }
    const message = `injecting ${error} error into ${kind}`;
    logError(message);
    return new NbdError(error, message);
  };

  return {
    name: "error-inject",
    longname: "nbdts error injection filter",
    version: VERSION,
    configHelp: "error=EPERM|EIO|ENOMEM|EINVAL|ENOSPC|ESHUTDOWN\n" +
      "                               The error indication to return.\n" +
      "error-rate=0%..100%|0..1       Rate of errors to generate.\n" +
      "error-file=TRIGGER             Set trigger filename.\n" +
      "error-pread*, error-pwrite*, error-trim*, error-zero*, error-extents*\n" +
      "                               Apply settings only to read/write/etc",

    config(next, key, value) {
      if (key === "error-seed") {
        seed = parseUint64(key, value);
        return;
      }
      const match = /^error(?:-(pread|pwrite|trim|zero|extents|cache))?(?:-(rate|file))?$/.exec(
        key,
      );
      if (!match) return next(key, value);
      const chosen = (match[1] === undefined ? KINDS : [match[1] as Kind]).map((k) => settings[k]);
      if (match[2] === "rate") {
        const rate = parseRate(key, value);
        for (const one of chosen) one.rate = rate;
      } else if (match[2] === "file") {
        if (host?.pathExists === undefined) {
          throw new ConfigError(`${key}: this runtime cannot check for files`);
        }
        for (const one of chosen) one.file = value;
      } else {
        const error = parseError(key, value);
        for (const one of chosen) one.error = error;
      }
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      return {
        readAt(buf, offset) {
          const error = injected("pread");
          if (error) throw error;
          return below.readAt(buf, offset);
        },
        writeAt(buf, offset, flags) {
          const error = injected("pwrite");
          if (error) throw error;
          return below.writeAt(buf, offset, flags);
        },
        trim(count, offset, flags) {
          const error = injected("trim");
          if (error) throw error;
          return below.trim(count, offset, flags);
        },
        zero(count, offset, flags) {
          const error = injected("zero");
          if (error) throw error;
          return below.zero(count, offset, flags);
        },
        extents(count, offset, flags, sink) {
          const error = injected("extents");
          if (error) throw error;
          return below.extents(count, offset, flags, sink);
        },
        cache(count, offset, flags) {
          const error = injected("cache");
          if (error) throw error;
          return below.cache(count, offset, flags);
        },
      };
    },
  };
}
