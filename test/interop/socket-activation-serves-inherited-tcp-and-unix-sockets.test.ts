/**
 * Socket activation as systemd does it: a TCP socket and a Unix socket passed together
 * (LISTEN_FDS=2) are both served, one disk behind both; and systemd-socket-activate's TCP
 * socket is served (that test skips when systemd-socket-activate is not installed).
 */

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { describe, expect, onTestFinished, test } from "vitest";
import { clientEnv, expectSuccess, killGroup, run } from "../helpers/captive.ts";
import { startActivated } from "../helpers/socket-activation.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

describe.each(servers)("socket activation on inherited sockets ($name)", (server) => {
  test("a TCP and a Unix socket passed together both serve the same disk", async (context) => {
    requireClients(context, "python3", "nbdsh");
    const activated = await startActivated(server, ["memory", "1M"], ["tcp", "unix"]);
    const [tcp, unix] = activated.uris as [string, string];
    expect(tcp).toMatch(/^nbd:\/\/127\.0\.0\.1:\d+$/);
    const write = `h.pwrite(b"over TCP", 4096)`;
    expectSuccess(await run(["nbdsh", "-u", tcp, "-c", write]));
    const read = `print(h.pread(8, 4096).decode())`;
    const result = expectSuccess(await run(["nbdsh", "-u", unix, "-c", read]));
    expect(result.stdout).toBe("over TCP\n");
  });

  test("systemd-socket-activate's TCP socket is served", async (context) => {
    requireClients(context, "systemd-socket-activate", "nbdinfo");
    const port = await freePort();
    // It waits for the first client, then execs the server in its own place.
    const launcher = spawn(
      "systemd-socket-activate",
      ["-l", `127.0.0.1:${port}`, ...server.argv, "memory", "1M"],
      { env: clientEnv(), stdio: ["ignore", "ignore", "pipe"], detached: true },
    );
    let stderr = "";
    launcher.stderr.setEncoding("utf8");
    launcher.stderr.on("data", (text: string) => (stderr += text));
    const exited = new Promise((resolve) => launcher.on("exit", resolve));
    onTestFinished(() => killGroup(launcher.pid, "SIGKILL"));
    for (let i = 0; i < 100 && !stderr.includes("Listening on"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const uri = `nbd://127.0.0.1:${port}`;
    for (let i = 0; i < 2; i++) {
      expect(expectSuccess(await run(["nbdinfo", "--size", uri])).stdout).toBe("1048576\n");
    }
    launcher.kill("SIGTERM"); // the server, since the exec
    expect(await exited).toBe(0);
  });
});
