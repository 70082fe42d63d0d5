/**
 * The limit filter (man nbdkit-limit-filter): at most `limit=N` clients (default 1; 0 means no
 * limit) connected at once. A client over the limit is refused at preconnect, before any byte
 * is sent; connections are counted from open to close, and open checks again, since a client
 * can linger in the handshake between the two.
 */

import { parseUnsigned } from "../api/parse-integer.ts";
import type { Filter } from "../api/filter.ts";
import { VERSION } from "../api/version.ts";

const TOO_MANY = "limit: too many clients connected, connection rejected";

export function createLimitFilter(): Filter {
  let limit = 1;
  let connections = 0;
  const full = () => limit > 0 && connections >= limit;
  return {
    name: "limit",
    longname: "nbdts limit filter",
    version: VERSION,
    description: "Limits the number of clients connected at the same time",
    configHelp: "limit=N                  Maximum number of clients (default 1, 0 = no limit).",

    config(next, key, value) {
      if (key === "limit") limit = parseUnsigned("limit", value);
      else return next(key, value);
    },

    async preconnect(next, readonly) {
      await next(readonly);
      if (full()) throw new Error(TOO_MANY);
    },

    async open(next, readonly, exportName) {
      await next(readonly, exportName);
      if (full()) throw new Error(TOO_MANY);
      connections++;
      let closed = false;
      return {
        close() {
          if (!closed) connections--;
          closed = true;
        },
      };
    },
  };
}
