/**
 * The tls-fallback filter (man nbdkit-tls-fallback-filter): with `--tls=on`, a client that
 * did not switch to TLS is served a harmless read-only export of 512 bytes holding a message
 * (`tlsreadme=`, cut to 512 bytes, the rest zeroes) instead of the plugin, which it never
 * reaches: the plugin is not even opened for it, so a slow open cannot be used against the
 * server (nbdkit's CVE-2019-14850). Such a client lists only the export "". TLS clients pass
 * straight through. Refuses a thread model that serializes connections, as nbdkit does.
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { CACHE_MODE, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

/** nbdkit's message buffer: 512 bytes, the text then zeroes. */
const SIZE = 512;

export function createTlsFallbackFilter(): Filter {
  let message = "This NBD server requires TLS authentication before it will serve useful data.\n";
  let contents = new Uint8Array(SIZE);
  return {
    name: "tls-fallback",
    longname: "nbdts tls-fallback filter",
    version: VERSION,
    configHelp: "tlsreadme=<MESSAGE>  Alternative contents for the plaintext dummy export.",

    config(next, key, value) {
      if (key === "tlsreadme") message = value;
      else return next(key, value);
    },

    getReady(threadModel) {
      if (threadModel === THREAD_MODEL.SERIALIZE_CONNECTIONS) {
        throw new ConfigError("the tls-fallback filter requires parallel connection support");
      }
      contents = new Uint8Array(SIZE);
      const text = new TextEncoder().encode(message);
      contents.set(text.subarray(0, SIZE));
    },

    listExports: (next, readonly, tls) => tls ? next(readonly) : [{ name: "" }],
    defaultExport: (next, readonly, tls) => tls ? next(readonly) : "",

    async open(next, readonly, exportName, tls) {
      if (tls) {
        await next(readonly, exportName);
        return {};
      }
      return {
        getSize: () => SIZE,
        readAt(buf, offset) {
          buf.set(contents.subarray(Number(offset), Number(offset) + buf.length));
        },
        canWrite: () => false,
        canFlush: () => false,
        isRotational: () => false,
        canExtents: () => false,
        canMultiConn: () => false,
        canCache: () => CACHE_MODE.NONE,
      };
    },
  };
}
