/**
 * The multi-conn consistency scenario (issue "Hardening", part 4) as a libnbd script body, for
 * any export that should keep NBD's multi-conn promise: once a flush is acknowledged on any
 * connection, every write acknowledged before it is seen by reads on every connection (NBD
 * spec, "Multiple connections"). Many connections check it at once, each reading another's
 * freshly written slot. Never judges the result: it reports what it saw.
 */

import { dedent } from "./libnbd.ts";
import { AIO_PRELUDE } from "./libnbd-aio.ts";

/** What the scenario reports. */
export interface ConsistencyReport {
  /** can_multi_conn as each connection was told. */
  multi_conn: boolean[];
  failures: string[];
  checks: number;
  /** Reads that did not see the write flushed before them: [connection, round, reader, at]. */
  stale: number[][];
  bytes_checked: number;
  /** Slots a fresh connection does not read as their last round wrote them. */
  final_bad_slots: number[];
  [key: string]: unknown;
}

/**
 * `connections` connections each own one slot of `slot` bytes (odd-sized, so slots straddle
 * pages); the export must hold connections × slot bytes. Every connection runs its own sequence
 * for `rounds` rounds, independently of the others, so each step races with the other
 * connections' writes, flushes and reads: write its slot (no FUA) -> flush, on itself in even
 * rounds and on the connection halfway round in odd ones -> read the slot on the connection
 * 1 + round further on -> compare.
 */
export function consistencyScript(connections: number, rounds: number, slot: number): string {
  return dedent(AIO_PRELUDE) + dedent(`
        C = ${connections}
        ROUNDS = ${rounds}
        SLOT = ${slot}
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
      `);
}
