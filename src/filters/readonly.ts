/**
 * The readonly filter (man nbdkit-readonly-filter, nbdkit 1.38 and later): without parameters
 * the export is read-only, as with -r (the layer below is opened read-only too); with
 * `readonly-file=PATH` it stays writable, but every write, trim and zero fails with EPERM while
 * PATH exists (checked on each request, so a disk can be write-protected at run time by
 * creating the file, and freed again by removing it). Flushes always pass: writes made before
 * the switch may still need them.
 *
 * nbdkit 1.32.5 has no readonly filter: this follows the newest nbdkit manual. (nbdkit's own
 * code opens the layer below writable when no file is given, against its comment; here it is
 * opened read-only, as -r would.)
 */

import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { logError } from "../api/error-log.ts";
import type { PluginHost } from "../io.ts";
import { VERSION } from "../api/version.ts";

export function createReadonlyFilter(host?: PluginHost): Filter {
  let file: string | undefined;
  /** Whether writes are refused now: the file is there (and readable, as nbdkit asks). */
  const refusing = () => file === undefined || host!.pathExists!(file, true);
  const refuse = (what: string) => {
    logError(`${what} operation rejected by readonly filter`);
    // EROFS, as nbdkit's: the client sees EPERM, the log says "Read-only file system".
    return new NbdError(ERRNO.EROFS, "Read-only file system");
  };
  return {
    name: "readonly",
    longname: "nbdts readonly filter",
    version: VERSION,
    configHelp: "readonly-file=FILENAME         If FILENAME present, set to readonly",

    config(next, key, value) {
      if (key !== "readonly-file") return next(key, value);
      if (file !== undefined) {
        throw new ConfigError("readonly-file parameter appears multiple times");
      }
      if (host?.pathExists === undefined) {
        throw new ConfigError("readonly-file: this runtime cannot check for files");
      }
      file = value;
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly || file === undefined, exportName);
      if (file === undefined) return { canWrite: () => false };
      return {
        writeAt(buf, offset, flags) {
          if (refusing()) throw refuse("pwrite");
          return below.writeAt(buf, offset, flags);
        },
        trim(count, offset, flags) {
          if (refusing()) throw refuse("trim");
          return below.trim(count, offset, flags);
        },
        zero(count, offset, flags) {
          if (refusing()) throw refuse("zero");
          return below.zero(count, offset, flags);
        },
      };
    },
  };
}
