/**
 * A socket-activated server is not a one-connection server: as nbdkit does, it keeps serving
 * after a client leaves, exits 0 on SIGTERM (libnbd's clients send it when done), and exits
 * when the process that started it dies (nbdkit 1.32.5 always asks the kernel for that).
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { eventually, processRunning, startActivated } from "../helpers/socket-activation.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("socket-activated server's lifetime ($name)", (server) => {
  test("serves one client after another, then exits 0 on SIGTERM", async (context) => {
    requireClients(context, "python3", "nbdinfo");
    const activated = await startActivated(server, ["memory", "1M"]);
    const uri = activated.uris[0]!;
    for (let i = 0; i < 3; i++) {
      expect(expectSuccess(await run(["nbdinfo", "--size", uri])).stdout).toBe("1048576\n");
    }
    expect(processRunning(activated.pid)).toBe(true);
    process.kill(activated.pid, "SIGTERM");
    expect(await activated.exited).toEqual({ status: 0, signal: null });
  });

  test("exits when the process that started it dies", async (context) => {
    requireClients(context, "python3", "nbdinfo");
    const activated = await startActivated(server, ["memory", "1M"]);
    expectSuccess(await run(["nbdinfo", "--size", activated.uris[0]!]));
    activated.parent.kill("SIGKILL");
    await activated.exited;
    expect(await eventually(() => !processRunning(activated.pid), 8000)).toBe(true);
  });
});
