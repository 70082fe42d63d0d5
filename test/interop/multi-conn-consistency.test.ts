/**
 * Multi-conn consistency (issue "Hardening", part 4): a server that advertises CAN_MULTI_CONN
 * promises that once a flush is acknowledged on any connection, every write acknowledged
 * before it is seen by reads on every connection (NBD spec, "Multiple connections"). Many
 * connections check it at once, each reading another's freshly written slot.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { type ConsistencyReport, consistencyScript } from "../helpers/multi-conn-consistency.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const CONNECTIONS = 64;
const ROUNDS = 24;
/** Each connection owns one slot; odd-sized so slots straddle pages. */
const SLOT = 65536 + 4099;
const DISK = CONNECTIONS * SLOT;

describe.each(servers)("multi-conn consistency ($name)", (server) => {
  test(
    `a write acknowledged on one of ${CONNECTIONS} connections, then a flush on it or on a third, is read by another`,
    async (context) => {
      requireClients(context, "nbdsh");
      const result = await libnbd<ConsistencyReport>(
        server,
        ["memory", String(DISK)],
        consistencyScript(CONNECTIONS, ROUNDS, SLOT),
      );
      console.log(
        `multi-conn consistency (${server.name}): ${result.checks} cross-connection reads, ` +
          `${result.bytes_checked} bytes checked`,
      );
      expect(result.multi_conn).toEqual(Array(CONNECTIONS).fill(true));
      expect(result.failures).toEqual([]);
      expect(result.stale).toEqual([]);
      expect(result.checks).toBe(CONNECTIONS * ROUNDS);
      expect(result.final_bad_slots).toEqual([]);
    },
  );
});
