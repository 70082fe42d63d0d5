/**
 * The ip filter (man nbdkit-ip-filter): refuses clients by where they connect from, before any
 * byte of the protocol is sent. `allow=` and `deny=` may each be given many times, in any
 * order; rules append to their list, and the allow list is always checked first.
 */

import type { Filter } from "../api/filter.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { isAllowed, parseRules, type Rule } from "./ip-rules.ts";

export function createIpFilter(): Filter {
  const allow: Rule[] = [];
  const deny: Rule[] = [];
  return {
    name: "ip",
    longname: "nbdts ip filter",
    version: VERSION,
    description: "Allows or denies clients by IP address or socket family",
    configHelp: "allow=addr[,addr...]     Set allow list.\n" +
      "deny=addr[,addr...]      Set deny list.",

    config(next, key, value) {
      if (key === "allow") allow.push(...parseRules(key, value));
      else if (key === "deny") deny.push(...parseRules(key, value));
      else return next(key, value);
    },

    threadModel: () => THREAD_MODEL.PARALLEL,

    async preconnect(next, readonly, peer) {
      // Like nbdkit when it cannot get the peer's name: fail closed.
      if (peer === undefined) {
        throw new Error("client not permitted to connect: the server cannot tell its address");
      }
      if (!isAllowed(allow, deny, peer)) {
        throw new Error("client not permitted to connect because of source address restriction");
      }
      await next(readonly);
    },
  };
}
