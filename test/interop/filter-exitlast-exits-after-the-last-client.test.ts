/**
 * --filter=exitlast (man nbdkit-exitlast-filter): the server exits, status 0, once the last
 * client connected to it has gone: not while another is still connected, and not before the
 * first one comes. In the foreground, in daemon mode and under --run (where the command runs
 * on and finds the server gone), as nbdkit's does.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, run } from "../helpers/captive.ts";
import { filterHelp } from "../helpers/filters.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { exitOf, gone, startDaemon } from "../helpers/process-exit.ts";

describe.each(servers)("exitlast filter ($name)", (server) => {
  test("the server exits 0 when its last client leaves, not before", async (context) => {
    requireClients(context, "nbdsh");
    const background = await startServer(server, ["--filter=exitlast", "memory", "1M"]);
    // Two clients; the second leaves first and the server stays; then the first leaves.
    const both = await run([
      "nbdsh",
      "-c",
      `
import os, time
first = nbd.NBD(); first.connect_uri(os.environ["URI"])
second = nbd.NBD(); second.connect_uri(os.environ["URI"])
second.pwrite(b"x" * 512, 0)
second.shutdown()
time.sleep(0.5)
os.kill(${background.pid}, 0)  # still serving
print(bytes(first.pread(1, 0)).decode())
first.shutdown()
`,
    ], { env: { URI: background.uri } });
    expect(both.stdout.trim()).toBe("x");
    expect(await exitOf(background.exited)).toEqual({ status: 0, signal: null });
  });

  test("under --run the server goes once the client has left; the command runs on", async (context) => {
    requireClients(context, "nbdinfo");
    const result = await captive(
      server,
      ["--filter=exitlast", "memory", "1M"],
      'nbdinfo --size "$uri" && sleep 1 && ' +
        '(nbdinfo --size "$uri" 2>/dev/null || echo "server gone")',
    );
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["1048576", "server gone"]);
  });

  test("in daemon mode the background server exits after its client", async (context) => {
    requireClients(context, "nbdinfo");
    const { pid, uri } = await startDaemon(server, ["--filter=exitlast", "memory", "1M"]);
    const info = await run(["nbdinfo", "--size", uri]);
    expect(info.stdout.trim()).toBe("1048576");
    expect(await gone(pid)).toBe(true);
  });

  test("--help shows no parameters, as nbdkit", async () => {
    expect(await filterHelp(server, "exitlast")).toBe("");
  });
});
