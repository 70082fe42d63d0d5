/**
 * SIGTERM stops a background server cleanly: exit status 0, without needing SIGKILL, and
 * no more connections accepted. A client still connected finds its next request failing.
 * (nbdkit 1.32.5 leaves the socket file and the pid file behind, so their removal is not
 * required here.)
 */

import { connect } from "node:net";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Resolves true when something accepts a connection on `socket`, false when refused. */
function accepts(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = connect(socket);
    connection.once("connect", () => {
      connection.destroy();
      resolve(true);
    });
    connection.once("error", () => resolve(false));
  });
}

describe.each(servers)("SIGTERM stops the server ($name)", (server) => {
  test("an idle server exits with status 0 and stops listening", async (context) => {
    requireClients(context, "nbdinfo");
    const background = await startServer(server, ["memory", "1M"]);
    expectSuccess(await run(["nbdinfo", "--size", background.uri]));
    expect(await accepts(background.socket)).toBe(true);
    const exit = await background.stop("SIGTERM", 5_000);
    expect(exit).toEqual({ status: 0, signal: null });
    expect(await accepts(background.socket)).toBe(false);
  });

  test("a connected client's next request fails and the server then exits with status 0", async (context) => {
    requireClients(context, "nbdsh");
    const background = await startServer(server, ["memory", "1M"]);
    const script = `
import os, signal, time, nbd
h = nbd.NBD()
h.connect_unix(${JSON.stringify(background.socket)})
h.pwrite(b"before", 0)
os.kill(${background.pid}, signal.SIGTERM)
time.sleep(0.5)
try:
    h.pread(6, 0)
    print("served")
except nbd.Error as e:
    print("failed")
`;
    const result = expectSuccess(await run(["python3", "-c", script]));
    expect(result.stdout.trim()).toBe("failed");
    expect(await background.stop("SIGTERM", 5_000)).toEqual({ status: 0, signal: null });
  });
});
