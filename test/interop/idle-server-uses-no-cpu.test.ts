/**
 * A server whose clients have gone quiet uses no CPU: the busy polling that Node and Bun do
 * after bytes arrive (src/runtime/busy-poll.ts) ends within its window and never turns into a
 * spinning loop. Measured as the server process's own CPU time over a second of silence, right
 * after a burst of requests one at a time (the traffic that makes it poll).
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { transmitting } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

/** The process's user + system CPU time in clock ticks (/proc/PID/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // the name may hold spaces
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(servers)("idle server ($name)", (server) => {
  test("after 2000 reads one at a time, a second of silence costs the server under 0.1 s of CPU", async () => {
    const background = await startServer(server, ["memory", "16M"]);
    try {
      const connection = await transmitting(background.socket);
      for (let i = 0; i < 2000; i++) {
        const { error } = await connection.pread(4096, (i * 4096) % (16 << 20));
        expect(error).toBe(0);
      }
      await sleep(100); // any window there is has long passed
      const before = cpuTicks(background.pid);
      await sleep(1000);
      const used = cpuTicks(background.pid) - before;
      // Ticks are 10 ms: a server left spinning would show about 100.
      expect(used).toBeLessThan(10);
      connection.close();
    } finally {
      await background.stop();
    }
  });
});
