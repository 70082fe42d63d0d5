/**
 * Multi-conn consistency (issue "Hardening", part 4): a server that advertises CAN_MULTI_CONN
 * promises that once a flush is acknowledged on any connection, every write acknowledged
 * before it is seen by reads on every connection (NBD spec, "Multiple connections"). Many
 * connections check it at once, each reading another's freshly written slot.
 */

import { describe, expect, test } from "vitest";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { AIO_PRELUDE } from "../helpers/libnbd-aio.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const CONNECTIONS = 64;
const ROUNDS = 24;
/** Each connection owns one slot; odd-sized so slots straddle pages. */
const SLOT = 65536 + 4099;
const DISK = CONNECTIONS * SLOT;

interface Report {
  multi_conn: boolean[];
  failures: string[];
  checks: number;
  stale: number[][];
  bytes_checked: number;
  final_bad_slots: number[];
  [key: string]: unknown;
}

describe.each(servers)("multi-conn consistency ($name)", (server) => {
  test(
    `a write acknowledged on one of ${CONNECTIONS} connections, then a flush on it or on a third, is read by another`,
    async (context) => {
      requireClients(context, "nbdsh");
      const result = await libnbd<Report>(
        server,
        ["memory", String(DISK)],
        dedent(AIO_PRELUDE) + dedent(`
        C = ${CONNECTIONS}
        ROUNDS = ${ROUNDS}
        SLOT = ${SLOT}
        handles = [connect() for _ in range(C)]
        multi_conn = [h.can_multi_conn() for h in handles]

        # Every connection c runs its own sequence, round after round, independently of the
        # others, so each step races with the other connections' writes, flushes and reads:
        #   write its slot (no FUA) -> flush, on c in even rounds and on connection c+C/2 in
        #   odd ones -> read the slot on connection c+1+round -> compare -> next round.
        state = [{"round": 0, "step": "write", "cookie": None, "buf": None, "data": None, "on": None} for _ in range(C)]
        failures, stale = [], []
        checks = 0

        def start(c):
            s = state[c]
            r = s["round"]
            if s["step"] == "write":
                s["data"] = payload("multi-conn", c, r, length=SLOT)
                s["buf"] = nbd.Buffer.from_bytearray(bytearray(s["data"]))
                s["on"] = handles[c]
                s["cookie"] = s["on"].aio_pwrite(s["buf"], c * SLOT)
            elif s["step"] == "flush":
                s["on"] = handles[c] if r % 2 == 0 else handles[(c + C // 2) % C]
                s["cookie"] = s["on"].aio_flush()
            elif s["step"] == "read":
                s["on"] = handles[(c + 1 + r) % C]
                s["buf"] = nbd.Buffer(SLOT)
                s["cookie"] = s["on"].aio_pread(s["buf"], c * SLOT)

        for c in range(C):
            start(c)
        while pump_once(handles):
            for c in range(C):
                s = state[c]
                if s["step"] == "done":
                    continue
                try:
                    if not s["on"].aio_command_completed(s["cookie"]):
                        continue
                except nbd.Error as e:
                    failures.append("connection %d round %d %s: %s" % (c, s["round"], s["step"], e.errno or e.string))
                    s["step"] = "done"
                    continue
                if s["step"] == "write":
                    s["step"] = "flush"
                elif s["step"] == "flush":
                    s["step"] = "read"
                else:
                    checks += 1
                    got = s["buf"].to_bytearray()
                    if got != s["data"] and len(stale) < 10:
                        stale.append([c, s["round"], (c + 1 + s["round"]) % C, first_difference(got, s["data"])])
                    s["round"] += 1
                    s["step"] = "write" if s["round"] < ROUNDS else "done"
                if s["step"] != "done":
                    start(c)

        # Afterwards a fresh connection sees every slot's last round.
        v = connect()
        final_bad_slots = [c for c in range(C) if v.pread(SLOT, c * SLOT) != payload("multi-conn", c, ROUNDS - 1, length=SLOT)]
        v.shutdown()
        for h in handles:
            h.shutdown()
        report(multi_conn=multi_conn, failures=failures[:10], checks=checks, stale=stale,
               bytes_checked=checks * SLOT + C * SLOT, final_bad_slots=final_bad_slots)
      `),
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
