/**
 * The zero plugin (man nbdkit-zero-plugin): a read-only disk of length zero, for testing
 * corner cases in clients. It takes no parameters. (`null` with no size serves an empty disk
 * too, but a writable one; this plugin keeps nbdkit 1.32's read-only flavour.)
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import { CACHE_MODE, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

export function createZeroPlugin(): Plugin {
  return {
    name: "zero",
    version: VERSION,
    // No config(): the server refuses any key=value with "this plugin does not need command
    // line configuration", as nbdkit does.
    threadModel: () => THREAD_MODEL.PARALLEL,
    open: () => ({
      getSize: () => 0,
      // readAt is required, but the server checks every request against the size first, and
      // no read fits in zero bytes: this can only run if that check is broken.
      readAt() {
        throw new NbdError(ERRNO.EIO, "unexpected call to readAt");
      },
      // Without writeAt the disk is read-only.
      canMultiConn: () => true,
      canCache: () => CACHE_MODE.NATIVE,
    }),
  };
}
