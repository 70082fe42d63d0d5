/**
 * The noparallel filter (man nbdkit-noparallel-filter): serves with a stricter thread model
 * than the plugin asks for. `serialize=requests` (the default) runs one request at a time per
 * connection, `all-requests` one at a time across all connections, `connections` one
 * connection at a time. `serialise=` is the same parameter.
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { THREAD_MODEL, type ThreadModel } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

const MODELS: Readonly<Record<string, ThreadModel>> = {
  requests: THREAD_MODEL.SERIALIZE_REQUESTS,
  "all-requests": THREAD_MODEL.SERIALIZE_ALL_REQUESTS,
  all_requests: THREAD_MODEL.SERIALIZE_ALL_REQUESTS,
  connections: THREAD_MODEL.SERIALIZE_CONNECTIONS,
};

export function createNoparallelFilter(): Filter {
  let model: ThreadModel = THREAD_MODEL.SERIALIZE_REQUESTS;
  return {
    name: "noparallel",
    longname: "nbdts noparallel filter",
    version: VERSION,
    configHelp: "serialize=<MODE>      'requests' (default), 'all-requests', or 'connections'.",

    config(next, key, value) {
      if (key !== "serialize" && key !== "serialise") return next(key, value);
      if (!Object.hasOwn(MODELS, value)) {
        throw new ConfigError(`unknown noparallel serialize mode '${value}'`);
      }
      model = MODELS[value];
    },

    threadModel: () => model,
  };
}
